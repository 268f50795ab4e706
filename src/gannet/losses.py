r"""GAN losses as pure functions of the discriminator's outputs, chosen by name (``loss.name``).

For the paper's two losses D's output a(x) is a logit, D(x) = sigmoid(a(x)), so log D = -softplus(-a)
and log(1 - D) = -softplus(a). Computing from logits with softplus is exact and never takes log(0),
unlike sigmoid followed by log. Value function (paper Eq. 1):
V(D, G) = E_x[log D(x)] + E_z[log(1 - D(G(z)))].

The later losses read the same output as a score (a critic):

- ``wasserstein`` (Arjovsky et al. 2017): D maximises E[a(x)] - E[a(G(z))], G maximises E[a(G(z))].
  The difference estimates the Wasserstein-1 distance only when D is 1-Lipschitz: pair it with
  weight clipping or a gradient penalty (``regularisers``).
- ``hinge`` (Lim & Ye 2017; Miyato et al. 2018): D minimises E[relu(1 - a(x))] + E[relu(1 + a(G(z)))],
  G maximises E[a(G(z))].
- ``least-squares`` (Mao et al. 2017, targets a = 0, b = c = 1): D minimises
  (E[(a(x) - 1)^2] + E[a(G(z))^2]) / 2, G minimises E[(a(G(z)) - 1)^2] / 2.

Adding a loss is one pure pair of functions and a line in :data:`LOSSES`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch.nn.functional import relu, softplus

Tensor = torch.Tensor


def discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    r"""Binary cross-entropy averaged over the 2m real and fake examples: -V(D, G) / 2.

    Minimising it is Algorithm 1's ascent on V for D. The factor 1/2 is the authors' code
    (``d_obj = 0.5 * (mean softplus(-a_real) + mean softplus(a_fake))``, paper-spec section 1),
    so the paper's learning rates mean what they meant there.
    """
    return 0.5 * (softplus(-real_logits).mean() + softplus(fake_logits).mean())


def generator_loss_minimax(fake_logits: Tensor) -> Tensor:
    r"""The paper's Eq. 1 for G: minimise E_z[log(1 - D(G(z)))] = -E[softplus(a)].

    Its gradient with respect to the logit is -sigmoid(a) = -D(G(z)), which vanishes as D(G(z)) -> 0:
    early in training, when D rejects samples confidently, G learns little (paper section 3).
    """
    return -softplus(fake_logits).mean()


def generator_loss_nonsaturating(fake_logits: Tensor) -> Tensor:
    r"""The paper's practical alternative: maximise log D(G(z)), i.e. minimise E[softplus(-a)].

    Same fixed point as the minimax loss, but the gradient with respect to the logit,
    -(1 - D(G(z))), stays near -1 when D(G(z)) -> 0. This is what the authors' code trained.
    """
    return softplus(-fake_logits).mean()


def critic_loss_wasserstein(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    """-(E[a(x)] - E[a(G(z))]): D ascends the critic's estimate of the Wasserstein-1 distance."""
    return fake_scores.mean() - real_scores.mean()


def generator_loss_critic(fake_scores: Tensor) -> Tensor:
    """-E[a(G(z))]: G raises the critic's score of its samples (WGAN and hinge)."""
    return -fake_scores.mean()


def discriminator_loss_hinge(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    """E[relu(1 - a(x))] + E[relu(1 + a(G(z)))]: a margin of 1 on each side."""
    return relu(1.0 - real_scores).mean() + relu(1.0 + fake_scores).mean()


def discriminator_loss_least_squares(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    """(E[(a(x) - 1)^2] + E[a(G(z))^2]) / 2: regress real to 1 and fake to 0."""
    return 0.5 * ((real_scores - 1.0).square().mean() + fake_scores.square().mean())


def generator_loss_least_squares(fake_scores: Tensor) -> Tensor:
    """E[(a(G(z)) - 1)^2] / 2: G pulls D's output on its samples towards the real target."""
    return 0.5 * (fake_scores - 1.0).square().mean()


@dataclass(frozen=True)
class GANLoss:
    """One adversarial objective: what D minimises and what G minimises, from D's outputs."""

    name: str
    discriminator: Callable[[Tensor, Tensor], Tensor]
    generator: Callable[[Tensor], Tensor]
    probabilistic: bool  # D's output is a logit of P(real) (the paper); else an unbounded score


LOSSES: dict[str, GANLoss] = {
    "minimax": GANLoss("minimax", discriminator_loss, generator_loss_minimax, True),
    "nonsaturating": GANLoss("nonsaturating", discriminator_loss, generator_loss_nonsaturating, True),
    "wasserstein": GANLoss("wasserstein", critic_loss_wasserstein, generator_loss_critic, False),
    "hinge": GANLoss("hinge", discriminator_loss_hinge, generator_loss_critic, False),
    "least-squares": GANLoss("least-squares", discriminator_loss_least_squares, generator_loss_least_squares, False),
}

def value_estimate(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """Minibatch estimate of V(D, G) = mean log D(x) + mean log(1 - D(G(z))) (at most 0; -log 4 at D = 1/2)."""
    return -(softplus(-real_logits).mean() + softplus(fake_logits).mean())
