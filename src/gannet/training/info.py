r"""InfoGAN (Chen et al. 2016): latent codes c next to z, and a lower bound on the mutual information
I(c; G(z, c)) that makes the codes readable from the samples, so they come to mean something.

The codes are the last columns of G's input (:mod:`gannet.noise`): one categorical code, one-hot, and
continuous codes ~ U(-1, 1). Q(c | x) is a small head (:class:`CodeHead`) on D's last hidden features,
so Q shares D's body, as in the paper (:class:`gannet.models.code_head.CodeHead`). Eq. (5) of the paper,

    L_I(G, Q) = E_{c ~ p(c), x ~ G(z, c)}[log Q(c | x)] + H(c)  <=  I(c; G(z, c)),

is maximised over G and Q. gannet minimises its negative, up to the constant H(c): the cross-entropy
of Q's categorical logits against the code drawn, plus, for the continuous codes, the negative
log-likelihood of a unit-variance Gaussian centred on Q's output (1/2 ||c - mu(x)||^2, a constant
dropped). The two parts are weighted by ``loss.info`` (lambda, 1 in the paper for a categorical code)
and ``loss.info_continuous`` (the paper uses a smaller lambda for continuous codes).

The term (:class:`CodeRecovery`) enters both players' losses, on each step's own fake batch and the
latent that made it: as a D regulariser (its gradient reaches Q and D's shared body; G's sample carries
no gradient) and as a generator term (through D and Q, which the G step does not update). It needs no
branch in the training steps.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gannet.training.regularisers import DiscriminatorRegulariser

Tensor = torch.Tensor


def read_codes(discriminator: nn.Module, x: Tensor) -> tuple[Tensor, Tensor]:
    """Q's reading of the codes of ``x``: the head on D's features."""
    return discriminator.code_head(discriminator.features(x))


def split_latent(latent: Tensor, noise_dim: int, categorical: int) -> tuple[Tensor, Tensor]:
    """(the categorical code as class indices, or an empty tensor; the continuous codes)."""
    cat = latent[:, noise_dim : noise_dim + categorical]
    index = cat.argmax(1) if categorical else cat.new_zeros(len(latent), dtype=torch.long)
    return index, latent[:, noise_dim + categorical :].float()


def code_loss(logits: Tensor, means: Tensor, index: Tensor, continuous: Tensor, w_cat: float,
              w_cont: float) -> Tensor:
    """w_cat * CE(logits, index) + w_cont * E[1/2 ||continuous - means||^2]: -L_I up to H(c) and a constant."""
    loss = logits.new_zeros(())
    if logits.shape[1]:
        loss = loss + w_cat * F.cross_entropy(logits, index)
    if means.shape[1]:
        loss = loss + w_cont * 0.5 * (continuous - means).square().sum(1).mean()
    return loss


class CodeRecovery(DiscriminatorRegulariser):
    """-L_I on the step's own fake batch, for either player.

    As a D regulariser the batch comes detached from G: the gradient trains Q and D's shared body to
    read the codes of G's samples. As a G term it carries G's graph: G makes its codes readable,
    through D and Q, which the G step does not update."""

    def __init__(self, noise_dim: int, categorical: int, weight: float, weight_continuous: float):
        self.noise_dim, self.categorical = noise_dim, categorical
        self.weight, self.weight_continuous = weight, weight_continuous

    def penalty(self, gan, real: Tensor, fake: Tensor, latent: Tensor) -> Tensor:
        with gan.autocast():
            logits, means = read_codes(gan.discriminator, fake)
        index, continuous = split_latent(latent, self.noise_dim, self.categorical)
        return code_loss(logits.float(), means.float(), index, continuous, self.weight, self.weight_continuous)


def terms_from_config(cfg) -> tuple[tuple, tuple]:
    """(D's terms, G's terms) for ``loss.info``; two empty tuples when InfoGAN is off."""
    if cfg.loss.info <= 0:
        return (), ()
    term = CodeRecovery(cfg.noise.dim, cfg.noise.categorical, cfg.loss.info, cfg.loss.info_continuous)
    return (term,), (term,)
