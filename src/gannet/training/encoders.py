"""The network some runs train along with G, and the term of G's objective it enters, from the config.

A VAE (``train.update: vae``) trains a Gaussian encoder q(z|x) with G as its decoder and minimises the
negative ELBO (:mod:`gannet.training.vae`); ``loss.reconstruction`` trains a deterministic encoder E
and adds lambda * ||G(E(x)) - x||^2 to G's loss (:mod:`gannet.training.reconstruction`). Either way the
encoder shares G's optimiser. :func:`from_config` picks the one a config turns on, as
:func:`gannet.training.regularisers.from_config` picks D's penalties.
"""

from __future__ import annotations

from typing import Protocol

import torch
from torch import nn

from gannet.config import Config
from gannet.losses import LOSSES
from gannet.noise import latent_size
from gannet.training.reconstruction import Encoder, Reconstruction
from gannet.training.vae import GaussianEncoder, NegativeELBO


class Encoding(Protocol):
    def network(self, data_shape: tuple[int, ...]) -> nn.Module:
        """The encoder, with PyTorch's default initialisation (the caller seeds it)."""

    def term(self, encoder: nn.Module, encoder_train: nn.Module | None) -> object:
        """G's objective term that trains ``encoder`` (``encoder_train``: its DDP wrapper, if any)."""


class VAEEncoding:
    def __init__(self, cfg: Config):
        self.cfg = cfg

    def network(self, data_shape: tuple[int, ...]) -> nn.Module:
        return GaussianEncoder(data_shape, self.cfg.loss.encoder_hidden, self.cfg.noise.dim)

    def term(self, encoder: nn.Module, encoder_train: nn.Module | None) -> object:
        return NegativeELBO(encoder, encoder_train)


class ReconstructionEncoding:
    def __init__(self, cfg: Config):
        self.cfg = cfg

    def network(self, data_shape: tuple[int, ...]) -> nn.Module:
        return Encoder(data_shape, self.cfg.loss.encoder_hidden, latent_size(self.cfg.noise))

    def term(self, encoder: nn.Module, encoder_train: nn.Module | None) -> object:
        loss = self.cfg.loss
        return Reconstruction(encoder, loss.reconstruction, encoder_train, loss.reconstruction_adversarial,
                              LOSSES[loss.name].generator)


def from_config(cfg: Config) -> Encoding | None:
    """The encoding a config turns on (``train.update: vae`` or ``loss.reconstruction``), else None."""
    if cfg.train.update == "vae":
        return VAEEncoding(cfg)
    if cfg.loss.reconstruction > 0:
        return ReconstructionEncoding(cfg)
    return None


def build(encoding: Encoding | None, data_shape: tuple[int, ...], seed: int) -> nn.Module | None:
    """``encoding``'s network, initialised from ``seed`` (None without an encoding)."""
    if encoding is None:
        return None
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return encoding.network(data_shape)
