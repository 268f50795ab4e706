"""One training iteration, in the two schemes the config offers (``train.update``).

``alternating`` is the paper's Algorithm 1: k discriminator steps, each on a fresh minibatch and fresh
noise, then one generator step on fresh noise through the *updated* D. ``simultaneous`` is the
authors' released code: one minibatch and one z; both gradients at the old parameters, from the same
dropped-out fake logits; both nets updated together (paper-spec section 1).

Real and fake examples go through D as one concatenated batch when D has no batch statistics (the
same function as two separate passes, and every example still gets its own dropout mask); a D with
batch normalisation (DCGAN) or a minibatch-std feature sees them as two batches, as in the DCGAN
reference code. A packed D (PacGAN) gives one logit per pack of samples; the losses average over them.

The loss is a :class:`gannet.losses.GANLoss` (pure functions of D's outputs); the regularisers
(:mod:`gannet.training.regularisers`) add their penalties to D's loss before its one optimiser step and
may act on D after it (weight clipping); the generator terms add theirs to G's loss. Each is handed
the step's real minibatch, its fake one and the latent that made it (InfoGAN reads its codes back from
that very batch). Neither needs a branch here.

On several processes the passes whose gradients update a network go through its
DistributedDataParallel wrapper (``gan.g_train``, ``gan.d_train``), which averages those gradients
across ranks; passes that only carry gradients *through* a network use the bare module, so the G step
never all-reduces D's gradients. On one process the wrappers are the modules themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from gannet.data.batches import ShuffledBatches
from gannet.losses import GANLoss, value_estimate
from gannet.models.base import declared
from gannet.noise import sample_noise
from gannet.training.vae import vae_step

Tensor = torch.Tensor


@dataclass
class GAN:
    """The two players, their optimisers and the noise source."""

    generator: nn.Module
    discriminator: nn.Module
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    prior: str
    noise_dim: int
    noise_generator: torch.Generator
    precision: str = "fp32"
    rank: int = 0
    world: int = 1
    g_train: nn.Module | None = None  # G for passes that update G (its DDP wrapper on several processes)
    d_train: nn.Module | None = None  # D likewise
    regularisers: tuple = ()  # gannet.training.regularisers: penalties on D's loss, actions after D's step
    generator_terms: tuple = ()  # terms added to G's loss from a real batch (gannet.training.reconstruction)
    latent_options: dict = field(default_factory=dict)  # codes appended to z, z's scale (gannet.noise)

    def __post_init__(self):
        self.g_train = self.g_train or self.generator
        self.d_train = self.d_train or self.discriminator

    def opt_g_parameters(self) -> list:
        """Everything G's optimiser updates: G, and an encoder trained with it."""
        return [p for group in self.opt_g.param_groups for p in group["params"]]

    def uniform(self, n: int) -> Tensor:
        """This rank's ``n`` of ``n x world`` U(0, 1) numbers from the noise stream (e.g. interpolation weights)."""
        return self._own_rows(torch.rand(n * self.world, generator=self.noise_generator,
                                         device=self.noise_generator.device), n)

    def noise(self, n: int) -> Tensor:
        """This rank's ``n`` rows of a global noise batch of ``n x world`` drawn from the one stream."""
        return self._own_rows(sample_noise(self.prior, n * self.world, self.noise_dim, self.noise_generator,
                                           self.noise_generator.device, **self.latent_options), n)

    def _own_rows(self, drawn: Tensor, n: int) -> Tensor:
        return drawn[self.rank * n : (self.rank + 1) * n] if self.world > 1 else drawn

    def autocast(self):
        """Forward passes in bf16 when ``precision`` is bf16 (weights, gradients and updates stay fp32)."""
        return torch.autocast(self.noise_generator.device.type, dtype=torch.bfloat16,
                              enabled=self.precision == "bf16")


def _discriminate(d: nn.Module, real: Tensor, fake: Tensor) -> tuple[Tensor, Tensor]:
    fake = fake.to(real.dtype)
    if declared(d, "batch_statistics"):  # batch norm: real and fake as separate batches
        return d(real).float(), d(fake).float()
    logits = d(torch.cat([real, fake])).float()  # losses always in fp32
    split = len(real) // declared(d, "pack")  # a packed D gives one logit per pack of samples
    return logits[:split], logits[split:]


def _discriminator_objective(gan: GAN, loss: GANLoss, real: Tensor, fake: Tensor, latent: Tensor,
                             real_out: Tensor, fake_out: Tensor) -> Tensor:
    d_loss = loss.discriminator(real_out, fake_out)
    fake = fake.detach() if fake.requires_grad else fake  # the very batch D scored, when it has no graph
    for regulariser in gan.regularisers:
        d_loss = d_loss + regulariser.penalty(gan, real, fake, latent)
    return d_loss


def _generator_objective(gan: GAN, loss: GANLoss, fake_out: Tensor, real: Tensor, fake: Tensor,
                         latent: Tensor) -> Tensor:
    g_loss = loss.generator(fake_out)
    for term in gan.generator_terms:
        g_loss = g_loss + term.penalty(gan, real, fake, latent)
    return g_loss


def _after_discriminator_step(gan: GAN) -> None:
    for regulariser in gan.regularisers:
        regulariser.after_step(gan.discriminator)


def _stats(loss: GANLoss, d_loss: Tensor, g_loss: Tensor, real_out: Tensor, fake_out: Tensor) -> dict[str, Tensor]:
    real_out, fake_out = real_out.detach(), fake_out.detach()
    stats = {"d_loss": d_loss.detach(), "g_loss": g_loss.detach()}
    if loss.probabilistic:  # D's outputs are logits: V(D, G) and the probabilities D assigns
        stats.update(value=value_estimate(real_out, fake_out), d_real=torch.sigmoid(real_out).mean(),
                     d_fake=torch.sigmoid(fake_out).mean())
    else:  # scores: their means and the critic's gap E[a(x)] - E[a(G(z))]
        stats.update(critic_gap=real_out.mean() - fake_out.mean(), score_real=real_out.mean(),
                     score_fake=fake_out.mean())
    return stats


def alternating_step(gan: GAN, batches: ShuffledBatches, k: int, loss: GANLoss):
    """Algorithm 1 of the paper, one outer iteration."""
    G, D = gan.generator, gan.discriminator
    for _ in range(k):
        real, latent = batches.next(), gan.noise(batches.batch_size)
        with torch.no_grad(), gan.autocast():
            fake = G(latent)
        with gan.autocast():
            real_logits, fake_logits = _discriminate(gan.d_train, real, fake)
        d_loss = _discriminator_objective(gan, loss, real, fake, latent, real_logits, fake_logits)
        gan.opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        gan.opt_d.step()
        _after_discriminator_step(gan)

    D.requires_grad_(False)  # the G step needs gradients through D, not for D's weights
    latent = gan.noise(batches.batch_size)
    with gan.autocast():
        fake = gan.g_train(latent)
        fake_logits_g = D(fake).float()
    g_loss = _generator_objective(gan, loss, fake_logits_g, real, fake, latent)  # real: the last D step's
    gan.opt_g.zero_grad(set_to_none=True)
    g_loss.backward()
    gan.opt_g.step()
    D.requires_grad_(True)
    return _stats(loss, d_loss, g_loss, real_logits, fake_logits)


def simultaneous_step(gan: GAN, batches: ShuffledBatches, k: int, loss: GANLoss):
    """The authors' code: both gradients from one minibatch and one z, applied together (k = 1)."""
    real, latent = batches.next(), gan.noise(batches.batch_size)
    with gan.autocast():
        fake = gan.g_train(latent)
        real_logits, fake_logits = _discriminate(gan.d_train, real, fake)
    d_loss = _discriminator_objective(gan, loss, real, fake, latent, real_logits, fake_logits)
    g_loss = _generator_objective(gan, loss, fake_logits, real, fake, latent)  # the same fake logits as D's loss

    gan.opt_d.zero_grad(set_to_none=True)
    gan.opt_g.zero_grad(set_to_none=True)
    # Each loss's gradient for its own player only: d_loss -> D's weights, g_loss -> G's weights.
    d_loss.backward(inputs=list(gan.discriminator.parameters()), retain_graph=True)
    g_loss.backward(inputs=gan.opt_g_parameters())
    gan.opt_d.step()
    gan.opt_g.step()
    _after_discriminator_step(gan)
    return _stats(loss, d_loss, g_loss, real_logits, fake_logits)


STEPS = {"alternating": alternating_step, "simultaneous": simultaneous_step, "vae": vae_step}
