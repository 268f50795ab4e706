"""Feature networks for sample-quality metrics: gannet's own classifier, and Inception-v3 from local weights."""
