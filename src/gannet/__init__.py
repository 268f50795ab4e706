"""gannet: generative adversarial networks, from Goodfellow et al. (2014) onwards."""

__version__ = "0.1.0"
