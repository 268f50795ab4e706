"""The reconstruction term: its value, that it trains an encoder with G, and that runs resume."""

import pytest
import torch
from torch import nn

from gannet.checkpoint import load_checkpoint
from gannet.config import load_config
from gannet.training.reconstruction import Encoder, reconstruction_error
from gannet.training.run_dir import RunDir
from gannet.training.trainer import Trainer


def test_the_error_is_the_summed_square_averaged_over_examples():
    G = nn.Linear(3, 4, bias=False)
    E = nn.Linear(4, 3, bias=False)
    x = torch.randn(5, 4)
    direct = sum(((G(E(xi[None])) - xi[None]) ** 2).sum() for xi in x) / 5
    assert reconstruction_error(G, E, x).item() == pytest.approx(direct.item(), rel=1e-6)
    assert Encoder((1, 8, 8), [16], 7)(torch.rand(2, 1, 8, 8)).shape == (2, 7)


def _cfg(*overrides):
    return load_config("toy-grid", ["train.steps=40", "train.log_every=10", "train.checkpoint_every=20",
                                    "monitor.enabled=false", "train.progress=false", "train.tensorboard=false",
                                    "train.batch_size=64", "loss.reconstruction=1", "loss.encoder_hidden=[32]",
                                    *overrides])


def test_the_encoder_trains_with_g_and_lowers_the_reconstruction(tmp_path):
    trainer = Trainer(_cfg(), tmp_path / "run")
    real = torch.from_numpy(trainer.data.valid[:500])
    before = reconstruction_error(trainer.gan.generator, trainer.encoder, real).item()
    start = [p.clone() for p in trainer.encoder.parameters()]
    trainer.run()
    after = reconstruction_error(trainer.gan.generator, trainer.encoder, real).item()
    assert after < 0.5 * before, (before, after)
    assert all(not torch.equal(a, b) for a, b in zip(start, trainer.encoder.parameters()))
    assert "encoder" in load_checkpoint(RunDir(tmp_path / "run").last)


def test_a_run_with_the_encoder_resumes_exactly(tmp_path):
    Trainer(_cfg(), tmp_path / "straight").run()
    Trainer(_cfg("train.steps=20"), tmp_path / "resumed").run()
    Trainer(_cfg(), tmp_path / "resumed", resume=True).run()
    a, b = (load_checkpoint(RunDir(tmp_path / n).last) for n in ("straight", "resumed"))
    for key in ("generator", "encoder"):
        assert all(torch.equal(a[key][k], b[key][k]) for k in a[key])


def test_the_adversarial_part_is_gs_own_loss_on_its_reconstructions():
    """loss.reconstruction_adversarial: lambda_2 * l_G(D(G(E(x)))), through D to G and E, not to D."""
    from gannet.losses import LOSSES
    from gannet.training.reconstruction import Reconstruction

    torch.manual_seed(0)
    G, E, D = nn.Linear(3, 4), nn.Linear(4, 3), nn.Sequential(nn.Linear(4, 1), nn.Flatten(0))
    x = torch.randn(6, 4)

    class _Gan:
        g_train, discriminator = G, D

    nonsaturating = LOSSES["nonsaturating"].generator
    term = Reconstruction(E, 2.0, adversarial_weight=0.5, generator_loss=nonsaturating)
    D.requires_grad_(False)  # as in the G step
    loss = term.penalty(_Gan(), x)
    direct = 2.0 * reconstruction_error(G, E, x) + 0.5 * torch.nn.functional.softplus(-D(G(E(x)))).mean()
    assert loss.item() == pytest.approx(direct.item(), rel=1e-6)
    loss.backward()
    assert G.weight.grad is not None and E.weight.grad is not None and D[0].weight.grad is None
    # the adversarial part alone moves the loss: without it the value is the reconstruction's
    plain = Reconstruction(E, 2.0).penalty(_Gan(), x)
    assert plain.item() == pytest.approx(2.0 * reconstruction_error(G, E, x).item(), rel=1e-6) and plain < loss
    with pytest.raises(ValueError, match="generator loss"):
        Reconstruction(E, 1.0, adversarial_weight=1.0)


def test_the_adversarial_part_needs_the_encoder_and_trains(tmp_path):
    from gannet.config import ConfigError

    with pytest.raises(ConfigError, match="reconstruction_adversarial"):
        load_config("toy-grid", ["loss.reconstruction_adversarial=1"])
    trainer = Trainer(_cfg("loss.reconstruction_adversarial=1"), tmp_path / "run")
    assert trainer.gan.generator_terms[0].adversarial_weight == 1.0
    trainer.run()
    assert "encoder" in load_checkpoint(RunDir(tmp_path / "run").last)


def test_the_reconstruction_pass_leaves_gs_running_statistics_to_its_noise():
    """E's codes need not look like p_z: G's pass on them must not move the running statistics that
    sampling normalises N(0, I) noise by (before, codes of std ~65 made G map all noise to one point)."""
    from gannet.training.reconstruction import Reconstruction

    torch.manual_seed(0)
    G = nn.Sequential(nn.Linear(2, 16, bias=False), nn.BatchNorm1d(16, momentum=0.05), nn.ReLU(), nn.Linear(16, 2))
    E = nn.Linear(2, 2)
    with torch.no_grad():
        E.weight.mul_(100.0)  # codes far outside the prior

    class _Gan:
        g_train = G

    for _ in range(20):
        G(torch.randn(100, 2))  # G's own steps on prior noise
    statistics = G[1].running_mean.clone(), G[1].running_var.clone()
    loss = Reconstruction(E, 1.0).penalty(_Gan(), torch.randn(100, 2))
    loss.backward()
    assert torch.equal(G[1].running_mean, statistics[0]) and torch.equal(G[1].running_var, statistics[1])
    assert E.weight.grad is not None and G[0].weight.grad is not None
