r"""GAN losses as pure functions of the discriminator's logits.

D(x) = sigmoid(a(x)), so log D = -softplus(-a) and log(1 - D) = -softplus(a). Computing from logits
with softplus is exact and never takes log(0), unlike sigmoid followed by log.

Value function (paper Eq. 1):  V(D, G) = E_x[log D(x)] + E_z[log(1 - D(G(z)))].
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.nn.functional import softplus

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


GENERATOR_LOSSES: dict[str, Callable[[Tensor], Tensor]] = {
    "minimax": generator_loss_minimax,
    "nonsaturating": generator_loss_nonsaturating,
}


def value_estimate(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """Minibatch estimate of V(D, G) = mean log D(x) + mean log(1 - D(G(z))) (at most 0; -log 4 at D = 1/2)."""
    return -(softplus(-real_logits).mean() + softplus(fake_logits).mean())
