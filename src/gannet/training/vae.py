r"""A variational autoencoder (Kingma and Welling 2014) on gannet's core, for the GAN-versus-VAE comparison:
``train.update: vae``. G is the decoder, sampled exactly like a GAN's G (z ~ N(0, I)), so every metric
of ``gannet eval`` applies to it unchanged; there is no discriminator (``discriminator.arch: none``).

The encoder q(z | x) = N(mu(x), diag exp(logvar(x))) is an MLP (``loss.encoder_hidden``), trained with G
by G's optimiser. Each step minimises the negative evidence lower bound on a minibatch,

    -ELBO(x) = E_{q(z|x)}[-log p(x | z)] + KL(q(z | x) || N(0, I)),

with one reparameterised draw z = mu + exp(logvar / 2) * eps, eps ~ N(0, I) from the run's noise
stream, and p(x | z) a product of Bernoullis with means G(z) on the [0, 1] pixels (the usual choice for
MNIST; the data are not binarised, so this is a cross-entropy, not a likelihood of real-valued
images). The KL term is in closed form: 1/2 sum(mu^2 + exp(logvar) - 1 - logvar). Both terms are
summed over an example's dimensions and averaged over the minibatch, in nats.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from gannet.models.layers import dense_stack

Tensor = torch.Tensor


class GaussianEncoder(nn.Module):
    """x -> [Linear -> ReLU] x len(hidden) -> Linear to (mu, logvar), each of the latent's size."""

    def __init__(self, data_shape: tuple[int, ...], hidden: list[int], latent: int):
        super().__init__()
        self.net = dense_stack(math.prod(data_shape), hidden, nn.ReLU, 2 * latent)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        mu, logvar = self.net(x.reshape(len(x), -1)).float().chunk(2, dim=1)
        return mu, logvar


def negative_elbo(decoder: nn.Module, encoder: nn.Module, x: Tensor, eps: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """(-ELBO, the reconstruction term, the KL term), each averaged over the minibatch, in nats."""
    mu, logvar = encoder(x)
    z = mu + torch.exp(0.5 * logvar) * eps
    means = decoder(z).float().flatten(1)
    reconstruction = F.binary_cross_entropy(means, x.flatten(1).float(), reduction="none").sum(1).mean()
    kl = 0.5 * (mu.square() + logvar.exp() - 1.0 - logvar).sum(1).mean()
    return reconstruction + kl, reconstruction, kl


def importance_weighted_bound(decoder: nn.Module, encoder: nn.Module, x: Tensor, eps: Tensor) -> Tensor:
    """Per-example lower bound on log p(x) from K importance samples (Burda et al. 2016, Eq. 8):
    log (1/K) sum_k p(x | z_k) p(z_k) / q(z_k | x), z_k = mu + sigma * eps_k, ``eps`` of shape (K, N, d).
    K = 1 is the ELBO; the bound tightens as K grows. Nats, Bernoulli p(x | z) on the [0, 1] pixels."""
    mu, logvar = encoder(x)
    std = torch.exp(0.5 * logvar)
    flat = x.flatten(1).float()
    log_weights = []
    for e in eps:
        z = mu + std * e
        means = decoder(z).float().flatten(1)
        log_px = -F.binary_cross_entropy(means, flat, reduction="none").sum(1)
        log_pz = -0.5 * (z.square() + math.log(2 * math.pi)).sum(1)
        log_qz = -0.5 * (e.square() + math.log(2 * math.pi) + logvar).sum(1)
        log_weights.append(log_px + log_pz - log_qz)
    return torch.logsumexp(torch.stack(log_weights), 0) - math.log(len(eps))


class NegativeELBO:
    """G's whole loss under ``train.update: vae``; keeps the last step's two terms for the log."""

    def __init__(self, encoder: GaussianEncoder, encoder_train: nn.Module | None = None):
        self.encoder = encoder
        self.encoder_train = encoder_train or encoder
        self.stats: dict[str, Tensor] = {}

    def penalty(self, gan, real: Tensor, fake: Tensor | None = None, latent: Tensor | None = None) -> Tensor:
        eps = gan.noise(len(real))  # the run's N(0, I) noise stream: resumable
        loss, reconstruction, kl = negative_elbo(gan.g_train, self.encoder_train, real, eps)
        self.stats = {"reconstruction": reconstruction.detach(), "kl": kl.detach()}
        return loss


def vae_step(gan, batches, k: int, loss) -> dict[str, Tensor]:
    """One optimiser step of G and the encoder on one minibatch; D and ``loss`` are not used."""
    real = batches.next()  # fp32 throughout: the config refuses precision=bf16 for a VAE
    g_loss = sum(term.penalty(gan, real) for term in gan.generator_terms)
    gan.opt_g.zero_grad(set_to_none=True)
    g_loss.backward()
    gan.opt_g.step()
    stats = {"g_loss": g_loss.detach()}
    for term in gan.generator_terms:
        stats.update(getattr(term, "stats", {}))
    return stats
