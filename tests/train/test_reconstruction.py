"""The reconstruction term: its value, that it trains an encoder with G, and that runs resume."""

import pytest
import torch
from torch import nn

from gannet.checkpoint import load_checkpoint
from gannet.config import load_config
from gannet.train.reconstruction import Encoder, reconstruction_error
from gannet.train.run_dir import RunDir
from gannet.train.trainer import Trainer


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
