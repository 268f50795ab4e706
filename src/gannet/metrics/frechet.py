"""Frechet distance between Gaussians fitted to two feature sets (the arithmetic of FID).

    FD = ||m1 - m2||^2 + Tr C1 + Tr C2 - 2 Tr (C1 C2)^(1/2)

the squared 2-Wasserstein distance between N(m1, C1) and N(m2, C2) (Dowson & Landau 1982; Heusel et
al. 2017). The trace of the matrix square root is computed without a general ``sqrtm``: with
A = C1^(1/2) (symmetric, from an eigendecomposition), C1 C2 = A (A C2) has the same eigenvalues as the
symmetric positive semi-definite A C2 A, so Tr (C1 C2)^(1/2) = sum_i sqrt(eig_i(A C2 A)). Two
symmetric eigendecompositions in float64, eigenvalues clamped at 0: never an imaginary part from
round-off, and singular covariances (fewer samples than dimensions) need no added epsilon.
"""

from __future__ import annotations

import numpy as np


def gaussian_statistics(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance (1/(n-1) normaliser) of ``features`` (n, d), in float64."""
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"features must be an (n, d) array with n >= 2, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("features contain NaN or infinite values")
    return x.mean(0), np.atleast_2d(np.cov(x, rowvar=False))


def _symmetric_sqrt(c: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh((c + c.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def trace_sqrt_product(cov1, cov2) -> float:
    """Tr (C1 C2)^(1/2) for symmetric positive semi-definite C1, C2."""
    a = _symmetric_sqrt(np.asarray(cov1, dtype=np.float64))
    m = a @ np.asarray(cov2, dtype=np.float64) @ a
    return float(np.sqrt(np.clip(np.linalg.eigvalsh((m + m.T) / 2), 0, None)).sum())


def frechet_distance(mean1, cov1, mean2, cov2) -> float:
    """FD between N(mean1, cov1) and N(mean2, cov2); see the module docstring."""
    mean1, mean2 = np.atleast_1d(np.asarray(mean1, np.float64)), np.atleast_1d(np.asarray(mean2, np.float64))
    cov1, cov2 = np.atleast_2d(np.asarray(cov1, np.float64)), np.atleast_2d(np.asarray(cov2, np.float64))
    d = len(mean1)
    if mean2.shape != (d,) or cov1.shape != (d, d) or cov2.shape != (d, d):
        raise ValueError(f"shapes do not match: means {mean1.shape} and {mean2.shape}, covariances {cov1.shape} "
                         f"and {cov2.shape}")
    diff = mean1 - mean2
    return float(diff @ diff + np.trace(cov1) + np.trace(cov2) - 2 * trace_sqrt_product(cov1, cov2))


def frechet_distance_of_features(*, real, fake) -> float:
    """FD between Gaussians fitted to ``real`` and ``fake`` features (n, d) each."""
    return frechet_distance(*gaussian_statistics(real), *gaussian_statistics(fake))
