r"""Regularisers of the discriminator: penalties added to D's loss before its optimiser step, and
actions on D's weights after it. Each one is a small class; :func:`from_config` builds those a run's
``loss`` section asks for, and the training steps apply whatever list they are given.

- :class:`GradientPenalty` (WGAN-GP, Gulrajani et al. 2017, Eq. 3):
  lambda * E[(||grad_x D(x_hat)||_2 - 1)^2] with x_hat = eps x + (1 - eps) G(z), one eps ~ U[0, 1]
  per sample and the gradient norm taken per sample (for a packed D, per pack: one eps and one norm
  over the pack's whole input, the input that D's one output reads). It keeps the critic near
  1-Lipschitz along lines between real and generated points. (The paper advises against batch norm in the critic: the
  per-sample gradient is then no longer per sample.)
- :class:`R1Penalty` (Mescheder et al. 2018, Eq. 9): gamma / 2 * E[||grad_x D(x)||^2] on real data;
  it penalises D's gradient where the data are, which makes the game locally convergent.
- :class:`WeightClipping` (WGAN, Arjovsky et al. 2017, Algorithm 1): every weight of D clipped into
  [-c, c] after each D step, a crude way to bound the Lipschitz constant.
"""

from __future__ import annotations

import torch
from torch import nn

from gannet.models.base import declared

Tensor = torch.Tensor


def per_sample_gradient_norms(discriminator: nn.Module, points: Tensor) -> Tensor:
    """||grad_x D(x)||_2 for each of D's outputs on ``points``, differentiable (for a penalty on it).

    D acts on each example separately (no batch statistics), so the gradient of sum_i D(x_i) with
    respect to x_j is grad D(x_j): one backward pass gives every per-sample gradient. A packed D's
    output i reads the consecutive rows of pack i, so its norm is taken over those rows together."""
    points = points.detach().requires_grad_(True)
    outputs = discriminator(points).float()
    (grad,) = torch.autograd.grad(outputs.sum(), points, create_graph=True)
    return grad.reshape(len(outputs), -1).norm(dim=1)  # fp32 (the points' dtype) even where D ran in bf16


def gradient_penalty(discriminator: nn.Module, real: Tensor, fake: Tensor, eps: Tensor) -> Tensor:
    """E[(||grad D(x_hat)|| - 1)^2] at x_hat = eps * real + (1 - eps) * fake, one ``eps`` per sample."""
    eps = eps.reshape(-1, *([1] * (real.dim() - 1))).to(real.dtype)
    x_hat = eps * real + (1 - eps) * fake.to(real.dtype)
    return (per_sample_gradient_norms(discriminator, x_hat) - 1).square().mean()


def r1_penalty(discriminator: nn.Module, real: Tensor) -> Tensor:
    """E[||grad_x D(x)||^2] over the real examples."""
    return per_sample_gradient_norms(discriminator, real).square().mean()


class DiscriminatorRegulariser:
    """A penalty added to D's loss before its step (none by default), and an action on D after it."""

    def penalty(self, gan, real: Tensor, fake: Tensor, latent: Tensor) -> Tensor:
        """The term added to D's loss; ``fake`` = G(``latent``), detached from G."""
        return real.new_zeros(())

    def after_step(self, discriminator: nn.Module) -> None:
        pass


class GradientPenalty(DiscriminatorRegulariser):
    def __init__(self, weight: float):
        self.weight = weight

    def penalty(self, gan, real: Tensor, fake: Tensor, latent: Tensor) -> Tensor:
        pack = declared(gan.discriminator, "pack")  # one eps per pack: each pack is one point of D's input
        eps = gan.uniform(len(real) // pack).repeat_interleave(pack)  # the run's noise stream: resumable
        with gan.autocast():  # in bf16 runs D's passes here run in bf16 too (the norm and the mean in fp32)
            return self.weight * gradient_penalty(gan.discriminator, real, fake, eps)


class R1Penalty(DiscriminatorRegulariser):
    def __init__(self, gamma: float):
        self.gamma = gamma

    def penalty(self, gan, real: Tensor, fake: Tensor, latent: Tensor) -> Tensor:
        with gan.autocast():
            return 0.5 * self.gamma * r1_penalty(gan.discriminator, real)


class WeightClipping(DiscriminatorRegulariser):
    def __init__(self, c: float):
        self.c = c

    @torch.no_grad()
    def after_step(self, discriminator: nn.Module) -> None:
        for p in discriminator.parameters():
            p.clamp_(-self.c, self.c)


def from_config(loss_cfg) -> tuple:
    """The regularisers a ``loss`` config section turns on (``gradient_penalty``, ``r1``, ``clip``)."""
    chosen = []
    if loss_cfg.gradient_penalty > 0:
        chosen.append(GradientPenalty(loss_cfg.gradient_penalty))
    if loss_cfg.r1 > 0:
        chosen.append(R1Penalty(loss_cfg.r1))
    if loss_cfg.clip is not None:
        chosen.append(WeightClipping(loss_cfg.clip))
    return tuple(chosen)
