"""InfoGAN's Q (Chen et al. 2016): a head on D's last hidden features that reads the latent codes back
from an example (:mod:`gannet.training.info` trains it). It is an attribute of D, ``code_head``, so D's
optimiser trains it and D's checkpoint entry holds it."""

from __future__ import annotations

import torch
from torch import nn

Tensor = torch.Tensor


class CodeHead(nn.Module):
    """Q's head on D's features: Linear -> batch norm -> LeakyReLU(0.2) -> Linear to the code
    parameters (the categorical logits, then the means of the continuous codes); the paper's MNIST Q."""

    def __init__(self, feature_dim: int, categorical: int, continuous: int, hidden: int = 128):
        super().__init__()
        self.categorical, self.continuous = categorical, continuous
        self.net = nn.Sequential(nn.Linear(feature_dim, hidden), nn.BatchNorm1d(hidden), nn.LeakyReLU(0.2),
                                 nn.Linear(hidden, categorical + continuous))

    def forward(self, features: Tensor) -> tuple[Tensor, Tensor]:
        """(categorical logits (N, categorical), continuous means (N, continuous))."""
        out = self.net(features).float()
        return out[:, : self.categorical], out[:, self.categorical :]


def attach_code_head(discriminator: nn.Module, cfg, seed: int) -> nn.Module:
    """Give D the head Q, initialised from ``seed``, when ``loss.info`` is on; D unchanged otherwise."""
    if cfg.loss.info > 0:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            discriminator.code_head = CodeHead(discriminator.feature_dim, cfg.noise.categorical, cfg.noise.continuous)
    return discriminator
