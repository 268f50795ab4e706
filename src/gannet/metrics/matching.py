"""Accuracy of an unsupervised clustering against labels, after the best one-to-one matching of
clusters to classes (the Hungarian algorithm, ``scipy.optimize.linear_sum_assignment``): how InfoGAN's
categorical code is scored as a classifier of MNIST digits (Chen et al. 2016, Section 7.1)."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment


def contingency(clusters: np.ndarray, labels: np.ndarray, n_clusters: int, n_classes: int) -> np.ndarray:
    """(n_clusters, n_classes) counts of examples per (cluster, class)."""
    table = np.zeros((n_clusters, n_classes), dtype=np.int64)
    np.add.at(table, (np.asarray(clusters), np.asarray(labels)), 1)
    return table


def matched_accuracy(clusters: np.ndarray, labels: np.ndarray, n_clusters: int, n_classes: int) -> dict:
    """The fraction of examples whose cluster is matched to their class, under the one-to-one matching
    that maximises it; with the matching (cluster -> class, -1 for a cluster left unmatched when there
    are more clusters than classes) and the contingency table."""
    clusters, labels = np.asarray(clusters), np.asarray(labels)
    if clusters.shape != labels.shape or clusters.ndim != 1 or len(clusters) == 0:
        raise ValueError(f"clusters and labels must be two non-empty 1-D arrays of one length, got shapes "
                         f"{clusters.shape} and {labels.shape}")
    table = contingency(clusters, labels, n_clusters, n_classes)
    rows, cols = linear_sum_assignment(table, maximize=True)
    matching = np.full(n_clusters, -1, dtype=np.int64)
    matching[rows] = cols
    return {"accuracy": float(table[rows, cols].sum() / len(labels)), "matching": matching.tolist(),
            "contingency": table.tolist()}
