import math

import pytest
import torch

from gannet.losses import (
    LOSSES,
    discriminator_loss,
    generator_loss_minimax,
    generator_loss_nonsaturating,
    value_estimate,
)


def _closed_form(real, fake):
    d_real, d_fake = torch.sigmoid(real.double()), torch.sigmoid(fake.double())
    value = torch.log(d_real).mean() + torch.log(1 - d_fake).mean()
    return d_real, d_fake, value


def test_losses_match_the_papers_formulas():
    gen = torch.Generator().manual_seed(0)
    real, fake = torch.randn(64, generator=gen, dtype=torch.float64) * 3, torch.randn(64, generator=gen,
                                                                                      dtype=torch.float64) * 3
    d_real, d_fake, value = _closed_form(real, fake)
    assert value_estimate(real, fake).item() == pytest.approx(value.item(), rel=1e-12)
    assert discriminator_loss(real, fake).item() == pytest.approx(-value.item() / 2, rel=1e-12)
    assert generator_loss_minimax(fake).item() == pytest.approx(torch.log(1 - d_fake).mean().item(), rel=1e-12)
    assert generator_loss_nonsaturating(fake).item() == pytest.approx(-torch.log(d_fake).mean().item(), rel=1e-12)


def test_value_at_d_equal_half_is_minus_log_4():
    zeros = torch.zeros(10)
    assert value_estimate(zeros, zeros).item() == pytest.approx(-math.log(4), rel=1e-6)


def _grad_wrt_logit(loss_fn, logit):
    a = torch.tensor([logit], dtype=torch.float64, requires_grad=True)
    loss_fn(a).backward()
    return a.grad.item()


@pytest.mark.parametrize("logit", [-2.0, 0.0, 3.0])
def test_generator_gradients_have_closed_forms(logit):
    d = 1 / (1 + math.exp(-logit))
    assert _grad_wrt_logit(generator_loss_minimax, logit) == pytest.approx(-d, rel=1e-12)
    assert _grad_wrt_logit(generator_loss_nonsaturating, logit) == pytest.approx(-(1 - d), rel=1e-12)


def test_minimax_gradient_vanishes_when_d_rejects_fakes_but_nonsaturating_does_not():
    for logit in (-10.0, -20.0, -40.0):  # D(G(z)) = sigmoid(logit) -> 0
        assert abs(_grad_wrt_logit(generator_loss_minimax, logit)) < 1e-4
        assert _grad_wrt_logit(generator_loss_nonsaturating, logit) == pytest.approx(-1.0, abs=1e-4)
    grads = [abs(_grad_wrt_logit(generator_loss_minimax, x)) for x in (-2.0, -6.0, -12.0)]
    assert grads[0] > grads[1] > grads[2]


def test_extreme_logits_stay_finite_in_float32():
    real = torch.tensor([-200.0, 200.0])
    fake = torch.tensor([200.0, -200.0])
    for value in (discriminator_loss(real, fake), generator_loss_minimax(fake), generator_loss_nonsaturating(fake)):
        assert torch.isfinite(value)
    assert discriminator_loss(real, fake).item() == pytest.approx(0.5 * (200 / 2 + 200 / 2), rel=1e-6)


def test_discriminator_gradient_matches_binary_cross_entropy():
    real = torch.randn(8, dtype=torch.float64, requires_grad=True)
    fake = torch.randn(8, dtype=torch.float64, requires_grad=True)
    discriminator_loss(real, fake).backward()
    logits = torch.cat([real, fake]).detach().requires_grad_(True)
    targets = torch.cat([torch.ones(8), torch.zeros(8)]).double()
    torch.nn.functional.binary_cross_entropy_with_logits(logits, targets).backward()
    assert torch.allclose(torch.cat([real.grad, fake.grad]), logits.grad, atol=1e-14)


# --- the losses after 2014: closed forms on given scores, and the direction each pushes G ---------


def test_critic_losses_match_their_closed_forms():
    real = torch.tensor([2.0, -0.5, 0.25], dtype=torch.float64)
    fake = torch.tensor([-1.5, 0.5, 3.0], dtype=torch.float64)
    w, h, ls = LOSSES["wasserstein"], LOSSES["hinge"], LOSSES["least-squares"]
    assert w.discriminator(real, fake).item() == pytest.approx((-1.5 + 0.5 + 3.0) / 3 - (2.0 - 0.5 + 0.25) / 3)
    assert w.generator(fake).item() == pytest.approx(-(-1.5 + 0.5 + 3.0) / 3)
    # hinge: relu(1 - real) = [0, 1.5, 0.75]; relu(1 + fake) = [0, 1.5, 4]
    assert h.discriminator(real, fake).item() == pytest.approx(2.25 / 3 + 5.5 / 3)
    assert h.generator(fake).item() == pytest.approx(w.generator(fake).item())
    # least squares, targets real 1, fake 0 for D and 1 for G
    assert ls.discriminator(real, fake).item() == pytest.approx(
        0.5 * ((1.0 + 2.25 + 0.5625) / 3 + (2.25 + 0.25 + 9.0) / 3))
    assert ls.generator(fake).item() == pytest.approx(0.5 * (6.25 + 0.25 + 4.0) / 3)


def test_hinge_ignores_examples_beyond_the_margin():
    real, fake = torch.tensor([1.0, 5.0], requires_grad=True), torch.tensor([-1.0, -7.0], requires_grad=True)
    LOSSES["hinge"].discriminator(real, fake).backward()
    assert real.grad.abs().sum() == 0 and fake.grad.abs().sum() == 0


@pytest.mark.parametrize("name", list(LOSSES))
def test_every_loss_teaches_d_to_separate_and_g_to_fool(name):
    loss = LOSSES[name]
    real = torch.tensor([0.3, -0.2, 0.1], requires_grad=True)
    fake = torch.tensor([0.2, 0.4, 0.1], requires_grad=True)  # above 0, the least-squares fake target
    loss.discriminator(real, fake).backward()
    assert (real.grad < 0).all() and (fake.grad > 0).all()  # descent raises real scores, lowers fake ones
    fake_g = fake.detach().clone().requires_grad_(True)
    loss.generator(fake_g).backward()
    assert (fake_g.grad < 0).all()  # G's descent raises D's score of its samples
