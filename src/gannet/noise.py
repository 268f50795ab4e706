"""Noise priors p_z. ``uniform`` is U(-sqrt 3, sqrt 3) per dimension (unit variance), as in the authors'
released ``mnist.yaml``; ``normal`` is N(0, I), which the paper's MNIST model most likely used."""

from __future__ import annotations

import math

import torch

SQRT3 = math.sqrt(3.0)


def sample_noise(
    prior: str, n: int, dim: int, generator: torch.Generator | None = None, device: torch.device | str = "cpu"
) -> torch.Tensor:
    if prior == "uniform":
        z = torch.rand(n, dim, generator=generator, device=device)
        return z.mul_(2 * SQRT3).sub_(SQRT3)
    if prior == "normal":
        return torch.randn(n, dim, generator=generator, device=device)
    raise ValueError(f"noise.prior: unknown prior '{prior}' (accepted: uniform, normal)")
