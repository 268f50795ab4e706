"""Kernel distance (KID, Binkowski et al. 2018): unbiased MMD^2 with the cubic polynomial kernel.

    k(x, y) = (x . y / d + 1)^3
    MMD^2_u = sum_{i != j} k(x_i, x_j) / (m(m-1)) + sum_{i != j} k(y_i, y_j) / (m(m-1)) - 2 sum_{i,j} k(x_i, y_j) / m^2

averaged over random subsets of m examples from each set (100 subsets of 1,000 by default, as in
torch-fidelity and clean-fid). Unbiased, so it can be slightly negative for equal distributions;
it is not clamped.
"""

from __future__ import annotations

import numpy as np


def polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """The unbiased MMD^2 of two equal-size samples (m, d), cubic polynomial kernel, float64."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    m = len(x)
    if len(y) != m or m < 2:
        raise ValueError(f"need two samples of equal size >= 2, got {len(x)} and {len(y)}")
    kxx, kyy, kxy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    within = (kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1))
    return float(within - 2 * kxy.sum() / m**2)


def kernel_distance(*, real, fake, subsets: int = 100, subset_size: int = 1000, seed: int = 0) -> dict:
    """Mean and std (ddof 0) of MMD^2_u over ``subsets`` random subsets drawn without replacement from
    each set (the subset size is capped at the smaller set)."""
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(f"real and fake must be (n, d) arrays of the same d, got {real.shape} and {fake.shape}")
    m = min(subset_size, len(real), len(fake))
    rng = np.random.default_rng(seed)
    values = [mmd2_unbiased(real[rng.choice(len(real), m, replace=False)], fake[rng.choice(len(fake), m, replace=False)])
              for _ in range(subsets)]
    return {"mean": float(np.mean(values)), "std": float(np.std(values)), "subsets": subsets, "subset_size": m}
