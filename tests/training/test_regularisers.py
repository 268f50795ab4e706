"""The regularisers of D: the per-sample gradient penalty and R1 against direct computations,
clipping, and their place in a training step."""

from types import SimpleNamespace

import pytest
import torch
from torch import nn

from gannet.config import load_config
from gannet.data.batches import ShuffledBatches
from gannet.hardware import bf16_is_fast, cpu_capability
from gannet.losses import LOSSES
from gannet.training import regularisers
from gannet.training.regularisers import (
    gradient_penalty,
    per_sample_gradient_norms,
    r1_penalty,
)
from gannet.training.steps import GAN, alternating_step


def _critic(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(12, 16), nn.Tanh(), nn.Linear(16, 1), nn.Flatten(0)).double()


def _direct_norm(D, x):
    """||grad D(x)|| for one example, by itself: no batch involved."""
    x = x.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(D(x[None]).sum(), x)
    return g.norm()


def test_gradient_penalty_is_per_sample_with_one_coefficient_each():
    D = _critic()
    gen = torch.Generator().manual_seed(1)
    real = torch.randn(6, 3, 4, generator=gen, dtype=torch.float64)
    fake = torch.randn(6, 3, 4, generator=gen, dtype=torch.float64) * 2
    eps = torch.rand(6, generator=gen, dtype=torch.float64)
    direct = torch.stack([(_direct_norm(D, e * r + (1 - e) * f) - 1) ** 2 for e, r, f in zip(eps, real, fake)]).mean()
    assert gradient_penalty(D, real, fake, eps).item() == pytest.approx(direct.item(), rel=1e-12)
    # one eps for the whole batch would be another number
    shared = torch.full_like(eps, float(eps.mean()))
    assert gradient_penalty(D, real, fake, shared).item() != pytest.approx(direct.item(), rel=1e-6)
    # a norm per sample, not of the whole batch's gradient
    batch_norm = per_sample_gradient_norms(D, real).square().sum().sqrt()
    assert per_sample_gradient_norms(D, real).mean().item() != pytest.approx(batch_norm.item(), rel=1e-3)


def test_the_penalty_is_differentiable_in_d_weights():
    D = _critic()
    real, fake = torch.randn(5, 12, dtype=torch.float64), torch.randn(5, 12, dtype=torch.float64)
    gradient_penalty(D, real, fake, torch.rand(5, dtype=torch.float64)).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in D.parameters() if p.dim() > 1)


def test_r1_is_the_mean_squared_gradient_norm_on_real_data():
    D = _critic(3)
    real = torch.randn(7, 12, dtype=torch.float64)
    direct = torch.stack([_direct_norm(D, x) ** 2 for x in real]).mean()
    assert r1_penalty(D, real).item() == pytest.approx(direct.item(), rel=1e-12)


def test_a_linear_critic_of_unit_slope_has_no_gradient_penalty():
    D = nn.Sequential(nn.Linear(4, 1, bias=False), nn.Flatten(0)).double()
    with torch.no_grad():
        D[0].weight.copy_(torch.tensor([[0.6, 0.8, 0.0, 0.0]]))  # ||w|| = 1: 1-Lipschitz, tight
    x, y = torch.randn(9, 4, dtype=torch.float64), torch.randn(9, 4, dtype=torch.float64)
    assert gradient_penalty(D, x, y, torch.rand(9, dtype=torch.float64)).item() == pytest.approx(0.0, abs=1e-12)
    assert r1_penalty(D, x).item() == pytest.approx(1.0)


def test_from_config_builds_what_the_loss_section_asks_for():
    assert regularisers.from_config(load_config("toy-ring").loss) == ()
    cfg = load_config("toy-ring", ["loss.name=wasserstein", "loss.gradient_penalty=10", "loss.r1=0.5", "loss.clip=0.01"])
    kinds = [type(r).__name__ for r in regularisers.from_config(cfg.loss)]
    assert kinds == ["GradientPenalty", "R1Penalty", "WeightClipping"]


def _gan(D, regs):
    G = nn.Sequential(nn.Linear(2, 12)).double()
    return GAN(G, D, torch.optim.SGD(G.parameters(), lr=0.01), torch.optim.SGD(D.parameters(), lr=0.5),
               "normal", 2, torch.Generator().manual_seed(0), regularisers=regs)


def test_clipping_bounds_every_weight_of_d_after_its_step():
    D = _critic()
    gan = _gan(D, (regularisers.WeightClipping(0.01),))
    batches = ShuffledBatches(torch.randn(40, 12, dtype=torch.float64), 8, seed=0)
    gan.noise = lambda n: torch.randn(n, 2, dtype=torch.float64)
    alternating_step(gan, batches, 2, LOSSES["wasserstein"])
    assert all(p.abs().max() <= 0.01 for p in D.parameters())


def test_the_penalty_enters_d_loss_before_the_step():
    data = torch.randn(40, 12, dtype=torch.float64)
    losses = {}
    for weight in (0.0, 10.0):
        D = _critic()
        regs = (regularisers.GradientPenalty(weight),) if weight else ()
        gan = _gan(D, regs)
        gan.noise = lambda n: torch.randn(n, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
        stats = alternating_step(gan, ShuffledBatches(data, 8, seed=0), 1, LOSSES["wasserstein"])
        losses[weight] = (stats["d_loss"].item(), stats["critic_gap"].item(), [p.clone() for p in D.parameters()])
    assert losses[10.0][1] == pytest.approx(losses[0.0][1])  # the same scores before the step
    assert losses[10.0][0] > losses[0.0][0]  # plus a positive penalty
    assert any(not torch.equal(a, b) for a, b in zip(losses[10.0][2], losses[0.0][2]))  # and it moved D


@pytest.mark.skipif(not bf16_is_fast("cpu"), reason=f"this CPU ({cpu_capability()}) has no native bf16")
def test_in_bf16_runs_the_penalty_is_fp32_and_close_to_the_fp32_one():
    torch.manual_seed(0)
    D = nn.Sequential(nn.Conv2d(1, 8, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(8, 16, 4, 2, 1), nn.LeakyReLU(0.2),
                      nn.Flatten(), nn.Linear(16 * 7 * 7, 1), nn.Flatten(0))
    real, fake, eps = torch.rand(32, 1, 28, 28), torch.rand(32, 1, 28, 28), torch.rand(32)
    exact = gradient_penalty(D, real, fake, eps)
    gan = SimpleNamespace(discriminator=D, uniform=lambda n: eps,
                          autocast=lambda: torch.autocast("cpu", dtype=torch.bfloat16))
    in_bf16 = regularisers.GradientPenalty(1.0).penalty(gan, real, fake, None)
    assert in_bf16.dtype == torch.float32 and in_bf16.item() == pytest.approx(exact.item(), rel=0.03)
    in_bf16.backward()  # and D learns from it: every weight gets a finite fp32 gradient
    assert all(p.grad.dtype == torch.float32 and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0
               for p in D.parameters() if p.dim() > 1)
