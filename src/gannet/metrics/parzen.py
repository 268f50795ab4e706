r"""Parzen-window (Gaussian kernel density) log-likelihood, the paper's Table 1 metric.

For a point x in R^d and kernel centres mu_1..mu_N (generated samples), in nats:

    log p(x) = log (1/N) sum_j exp(-||x - mu_j||^2 / (2 sigma^2))  -  d log(sigma sqrt(2 pi))

(paper-spec section 3; the authors' ``parzen_ll.py``). Distances are computed as matrix products in
float64, a chunk of test points at a time, so memory stays bounded.
"""

from __future__ import annotations

import math

import numpy as np
import torch


def _as_matrix(a) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(a) if not isinstance(a, torch.Tensor) else a)
    return t.detach().reshape(len(t), -1).to(torch.float64)


def log_likelihood(samples, x, sigma: float, chunk: int = 1024) -> np.ndarray:
    """Per-example log p(x) (nats) under the Parzen window centred on ``samples``; returns float64 (n,)."""
    centres, points = _as_matrix(samples), _as_matrix(x)
    if centres.shape[1] != points.shape[1]:
        raise ValueError(f"samples have dimension {centres.shape[1]} but x has {points.shape[1]}")
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    d, n = centres.shape[1], centres.shape[0]
    centres_sq = (centres * centres).sum(1)
    out = []
    for block in points.split(chunk):
        sq = (block * block).sum(1, keepdim=True) + centres_sq - 2.0 * block @ centres.T
        out.append(torch.logsumexp(-sq.clamp_min_(0.0) / (2.0 * sigma**2), dim=1) - math.log(n))
    return (torch.cat(out) - d * math.log(sigma * math.sqrt(2.0 * math.pi))).cpu().numpy()
