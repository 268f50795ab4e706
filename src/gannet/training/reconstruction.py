r"""A reconstruction term for G against mode collapse (``loss.reconstruction``), after the
mode-regularised GAN of Che et al. (2017, Eq. 3).

An encoder E maps data to the noise space, and G's loss gains

    lambda_1 E_x[||G(E(x)) - x||^2] + lambda_2 E_x[l_G(D(G(E(x))))]

(the squared error summed over the example's dimensions, averaged over the minibatch; l_G is the run's
own generator loss, -log D for the non-saturating one). The first term (``loss.reconstruction``) makes
G reconstruct *every* training example from some code, so it cannot drop the modes its adversarial
loss alone lets it ignore. The second, the paper's "mode regulariser" (``loss.reconstruction_adversarial``),
asks that the reconstructions also look real to D: it pulls G's output near each example towards the
data, and ties the codes E gives the data to what D judges. E is trained with G, by G's optimiser; D
trains on real and G(z) as usual.

G's pass on the codes normalises by the codes' own batch statistics and leaves G's batch-norm running
statistics as G(z) made them (:func:`~gannet.models.layers.running_statistics_kept`). Nothing keeps
E's codes near the prior (in a run on the 25-Gaussian grid they spread with a standard deviation of
about 65 against the prior's 1), so running statistics updated by them describe inputs G is never sampled on:
the sampling G, normalising N(0, I) noise by them, maps it all to one point.

Che et al. write the second term of G's loss as +lambda_2 log D(G(E(x))), which G would lower by making
its reconstructions look fake; their text says the term moves G(E(x)) towards a mode of the data, so
gannet takes the sign that does that: G's own adversarial loss on its reconstructions.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from gannet.models.layers import dense_stack, running_statistics_kept

Tensor = torch.Tensor


class Encoder(nn.Module):
    """x -> [Linear -> LeakyReLU(0.2)] x len(hidden) -> Linear -> a code of the noise dimension."""

    def __init__(self, data_shape: tuple[int, ...], hidden: list[int], code_dim: int):
        super().__init__()
        self.net = dense_stack(math.prod(data_shape), hidden, lambda: nn.LeakyReLU(0.2), code_dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x.reshape(len(x), -1))


def squared_error(reconstruction: Tensor, real: Tensor) -> Tensor:
    """||x' - x||^2 summed per example and averaged over examples."""
    return (reconstruction - real).flatten(1).float().square().sum(1).mean()


def reconstruction_error(generator: nn.Module, encoder: nn.Module, real: Tensor) -> Tensor:
    """E_x ||G(E(x)) - x||^2."""
    return squared_error(generator(encoder(real)), real)


class Reconstruction:
    """The term added to G's loss; ``encoder_train`` is E's DDP wrapper on several processes. G(E(x))
    is computed once for both parts."""

    def __init__(self, encoder: Encoder, weight: float, encoder_train: nn.Module | None = None,
                 adversarial_weight: float = 0.0, generator_loss=None):
        if adversarial_weight > 0 and generator_loss is None:
            raise ValueError("the adversarial part of the reconstruction term needs the run's generator loss")
        self.encoder = encoder
        self.encoder_train = encoder_train or encoder
        self.weight, self.adversarial_weight = weight, adversarial_weight
        self.generator_loss = generator_loss

    def penalty(self, gan, real: Tensor, fake: Tensor | None = None, latent: Tensor | None = None) -> Tensor:
        with running_statistics_kept(gan.g_train):  # sampling normalises by G(z)'s statistics only
            reconstruction = gan.g_train(self.encoder_train(real))
        loss = self.weight * squared_error(reconstruction, real)
        if self.adversarial_weight > 0:  # through D, whose weights the G step does not update
            loss = loss + self.adversarial_weight * self.generator_loss(gan.discriminator(reconstruction).float())
        return loss
