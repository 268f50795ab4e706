r"""A reconstruction term for G against mode collapse (``loss.reconstruction``), after the
mode-regularised GAN of Che et al. (2017, Eq. 3, its first term).

An encoder E maps data to the noise space, and G's loss gains lambda * E_x[||G(E(x)) - x||^2] (the
squared error summed over the example's dimensions, averaged over the minibatch). G must then
reconstruct *every* training example from some code, so it cannot drop the modes its adversarial
loss alone lets it ignore. E is trained with G, by G's optimiser. (Che et al. also add
lambda_2 E_x[log D(G(E(x)))], which gannet leaves out: the reconstruction is what counters the collapse.)
"""

from __future__ import annotations

import math

import torch
from torch import nn

from gannet.models.layers import dense_stack

Tensor = torch.Tensor


class Encoder(nn.Module):
    """x -> [Linear -> LeakyReLU(0.2)] x len(hidden) -> Linear -> a code of the noise dimension."""

    def __init__(self, data_shape: tuple[int, ...], hidden: list[int], code_dim: int):
        super().__init__()
        self.net = dense_stack(math.prod(data_shape), hidden, lambda: nn.LeakyReLU(0.2), code_dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x.reshape(len(x), -1))


def reconstruction_error(generator: nn.Module, encoder: nn.Module, real: Tensor) -> Tensor:
    """E_x ||G(E(x)) - x||^2, the squared error summed per example and averaged over examples."""
    return (generator(encoder(real)) - real).flatten(1).float().square().sum(1).mean()


class Reconstruction:
    """The term added to G's loss; ``encoder_train`` is E's DDP wrapper on several processes."""

    def __init__(self, encoder: Encoder, weight: float, encoder_train: nn.Module | None = None):
        self.encoder = encoder
        self.encoder_train = encoder_train or encoder
        self.weight = weight

    def penalty(self, gan, real: Tensor) -> Tensor:
        return self.weight * reconstruction_error(gan.g_train, self.encoder_train, real)
