"""One training iteration, in the two schemes the config offers (``train.update``).

``alternating`` is the paper's Algorithm 1: k discriminator steps, each on a fresh minibatch and fresh
noise, then one generator step on fresh noise through the *updated* D. ``simultaneous`` is the
authors' released code: one minibatch and one z; both gradients at the old parameters, from the same
dropped-out fake logits; both nets updated together (paper-spec section 1).

Real and fake examples go through D as one concatenated batch. D has no batch statistics, so this is
the same function as two separate passes, and every example still gets its own dropout mask.

On several processes the passes whose gradients update a network go through its
DistributedDataParallel wrapper (``gan.g_train``, ``gan.d_train``), which averages those gradients
across ranks; passes that only carry gradients *through* a network use the bare module, so the G step
never all-reduces D's gradients. On one process the wrappers are the modules themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from gannet.data.batches import ShuffledBatches
from gannet.losses import discriminator_loss, value_estimate
from gannet.noise import sample_noise

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

    def __post_init__(self):
        self.g_train = self.g_train or self.generator
        self.d_train = self.d_train or self.discriminator

    def noise(self, n: int) -> Tensor:
        """This rank's ``n`` rows of a global noise batch of ``n x world`` drawn from the one stream."""
        z = sample_noise(self.prior, n * self.world, self.noise_dim, self.noise_generator, self.noise_generator.device)
        return z[self.rank * n : (self.rank + 1) * n] if self.world > 1 else z

    def autocast(self):
        """Forward passes in bf16 when ``precision`` is bf16 (weights, gradients and updates stay fp32)."""
        return torch.autocast(self.noise_generator.device.type, dtype=torch.bfloat16,
                              enabled=self.precision == "bf16")


def _discriminate(d: nn.Module, real: Tensor, fake: Tensor) -> tuple[Tensor, Tensor]:
    logits = d(torch.cat([real, fake.to(real.dtype)])).float()  # losses always in fp32
    return logits[: len(real)], logits[len(real) :]


def _stats(d_loss: Tensor, g_loss: Tensor, real_logits: Tensor, fake_logits: Tensor) -> dict[str, Tensor]:
    real_logits, fake_logits = real_logits.detach(), fake_logits.detach()
    return {
        "d_loss": d_loss.detach(),
        "g_loss": g_loss.detach(),
        "value": value_estimate(real_logits, fake_logits),
        "d_real": torch.sigmoid(real_logits).mean(),
        "d_fake": torch.sigmoid(fake_logits).mean(),
    }


def alternating_step(gan: GAN, batches: ShuffledBatches, k: int, generator_loss: Callable[[Tensor], Tensor]):
    """Algorithm 1 of the paper, one outer iteration."""
    G, D = gan.generator, gan.discriminator
    for _ in range(k):
        real = batches.next()
        with torch.no_grad(), gan.autocast():
            fake = G(gan.noise(len(real)))
        with gan.autocast():
            real_logits, fake_logits = _discriminate(gan.d_train, real, fake)
        d_loss = discriminator_loss(real_logits, fake_logits)
        gan.opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        gan.opt_d.step()

    D.requires_grad_(False)  # the G step needs gradients through D, not for D's weights
    with gan.autocast():
        fake_logits_g = D(gan.g_train(gan.noise(batches.batch_size))).float()
    g_loss = generator_loss(fake_logits_g)
    gan.opt_g.zero_grad(set_to_none=True)
    g_loss.backward()
    gan.opt_g.step()
    D.requires_grad_(True)
    return _stats(d_loss, g_loss, real_logits, fake_logits)


def simultaneous_step(gan: GAN, batches: ShuffledBatches, k: int, generator_loss: Callable[[Tensor], Tensor]):
    """The authors' code: both gradients from one minibatch and one z, applied together (k = 1)."""
    real = batches.next()
    with gan.autocast():
        real_logits, fake_logits = _discriminate(gan.d_train, real, gan.g_train(gan.noise(len(real))))
    d_loss = discriminator_loss(real_logits, fake_logits)
    g_loss = generator_loss(fake_logits)  # the same dropped-out fake logits as D's loss

    gan.opt_d.zero_grad(set_to_none=True)
    gan.opt_g.zero_grad(set_to_none=True)
    # Each loss's gradient for its own player only: d_loss -> D's weights, g_loss -> G's weights.
    d_loss.backward(inputs=list(gan.discriminator.parameters()), retain_graph=True)
    g_loss.backward(inputs=list(gan.generator.parameters()))
    gan.opt_d.step()
    gan.opt_g.step()
    return _stats(d_loss, g_loss, real_logits, fake_logits)


STEPS = {"alternating": alternating_step, "simultaneous": simultaneous_step}
