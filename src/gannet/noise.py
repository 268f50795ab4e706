"""Noise priors p_z. ``uniform`` is U(-sqrt 3, sqrt 3) per dimension (unit variance), as in the authors'
released ``mnist.yaml``; ``normal`` is N(0, I), which the paper's MNIST model most likely used.

InfoGAN's latent codes (Chen et al. 2016) are appended to z as its last columns: a categorical code as a
one-hot vector of ``categorical`` entries, then ``continuous`` codes ~ U(-1, 1). G's input is then
``dim + categorical + continuous`` wide, and whoever holds a latent vector can read its codes back.

``scale`` multiplies z, and only z: with a small scale the codes dominate G's input, as in ClusterGAN's
one-hot code beside z ~ N(0, 0.1^2 I) (Mukherjee et al. 2019). G's first layer can grow its weights
on z to make up for the scale, but in the InfoGAN runs of docs/models.md it made up only part of it."""

from __future__ import annotations

import math

import torch

SQRT3 = math.sqrt(3.0)


def sample_noise(
    prior: str, n: int, dim: int, generator: torch.Generator | None = None, device: torch.device | str = "cpu",
    *, categorical: int = 0, continuous: int = 0, scale: float = 1.0,
) -> torch.Tensor:
    """``n`` latent vectors: z from ``prior`` times ``scale``, then the codes (none by default: z alone)."""
    if prior == "uniform":
        z = torch.rand(n, dim, generator=generator, device=device).mul_(2 * SQRT3).sub_(SQRT3)
    elif prior == "normal":
        z = torch.randn(n, dim, generator=generator, device=device)
    else:
        raise ValueError(f"noise.prior: unknown prior '{prior}' (accepted: uniform, normal)")
    if scale != 1.0:
        z.mul_(scale)
    parts = [z]
    if categorical:
        index = torch.randint(categorical, (n,), generator=generator, device=device)
        parts.append(torch.nn.functional.one_hot(index, categorical).to(z.dtype))
    if continuous:
        parts.append(torch.rand(n, continuous, generator=generator, device=device).mul_(2).sub_(1))
    return torch.cat(parts, 1) if len(parts) > 1 else z


def latent_options(noise) -> dict:
    """What a ``NoiseConfig`` adds to its prior (the codes' sizes, z's scale), as keyword arguments of
    :func:`sample_noise`."""
    return {"categorical": noise.categorical, "continuous": noise.continuous, "scale": noise.scale}


def latent_size(noise) -> int:
    """Width of G's input for a ``NoiseConfig``: z and the codes."""
    return noise.dim + noise.categorical + noise.continuous
