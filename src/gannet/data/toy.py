"""Toy distributions that need no files: the paper's 1-D Gaussian (Figure 1) and two 2-D mixtures.

``toy-ring``: 8 Gaussians evenly spaced on a circle of radius 2, std 0.02 (Metz et al. 2017).
``toy-ring-pacgan``: the same at half the scale, radius 1, std 0.01 (the PacGAN toy code's ring).
``toy-grid``: 25 Gaussians on the grid {-4,-2,0,2,4}^2, std 0.05 (Srivastava et al. 2017).
``toy-1d``:   N(3, 0.5^2), the data density of Figure 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class GaussianMixture:
    """An equal-weight mixture of isotropic Gaussians with a common std."""

    centres: np.ndarray  # (modes, dim)
    std: float

    @property
    def dim(self) -> int:
        return self.centres.shape[1]

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        modes = rng.integers(len(self.centres), size=n)
        return (self.centres[modes] + self.std * rng.standard_normal((n, self.dim))).astype(np.float32)

    def density(self, x: np.ndarray) -> np.ndarray:
        """p(x) at points x of shape (n, dim)."""
        x = np.asarray(x, dtype=np.float64).reshape(-1, self.dim)
        sq = ((x[:, None, :] - self.centres[None]) ** 2).sum(-1)
        norm = (2 * np.pi * self.std**2) ** (self.dim / 2)
        return np.exp(-sq / (2 * self.std**2)).mean(1) / norm


def _ring(radius: float = 2.0, std: float = 0.02) -> GaussianMixture:
    angles = 2 * np.pi * np.arange(8) / 8
    return GaussianMixture(np.stack([radius * np.cos(angles), radius * np.sin(angles)], 1), std)


def _grid() -> GaussianMixture:
    axis = np.array([-4.0, -2.0, 0.0, 2.0, 4.0])
    return GaussianMixture(np.array([(a, b) for a in axis for b in axis]), 0.05)


TOYS: dict[str, GaussianMixture] = {
    "toy-1d": GaussianMixture(np.array([[3.0]]), 0.5),
    "toy-ring": _ring(),
    "toy-ring-pacgan": _ring(1.0, 0.01),
    "toy-grid": _grid(),
}
