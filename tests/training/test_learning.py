"""Small real trainings whose results are asserted: the GAN learns what the paper says it learns."""

import numpy as np
import pytest

from gannet.checkpoint import load_checkpoint
from gannet.config import load_config
from gannet.data.toy import TOYS
from gannet.training.run_dir import RunDir, read_metrics
from gannet.training.trainer import Trainer
from gannet.sampling import generated_samples
from tests.conftest import real_data_root, requires_real_mnist

QUIET = ["train.progress=false", "train.tensorboard=false", "train.sample_every=100000", "device=cpu"]


def _train(recipe, out, *overrides):
    Trainer(load_config(recipe, [*QUIET, *overrides]), out).run()
    return load_checkpoint(RunDir(out).last)


def _modes_covered(samples, toy, min_fraction=0.02):
    """Modes holding at least ``min_fraction`` of the samples within 3 std of their centre."""
    dist = np.sqrt(((samples[:, None] - toy.centres[None]) ** 2).sum(-1))
    good = dist.min(1) < 3 * toy.std
    counts = np.bincount(dist.argmin(1)[good], minlength=len(toy.centres))
    return int((counts >= min_fraction * len(samples)).sum()), float(good.mean())


@pytest.mark.slow
def test_toy_1d_generator_matches_the_data_mean_and_std(tmp_path):
    state = _train("toy-1d", tmp_path, "monitor.enabled=false")
    samples = generated_samples(state, 20_000, seed=1).ravel()
    assert abs(samples.mean() - 3.0) < 0.1, samples.mean()
    assert abs(samples.std() - 0.5) < 0.12, samples.std()
    init = generated_samples(_train("toy-1d", tmp_path / "init", "train.steps=1"), 20_000, seed=1).ravel()
    assert abs(init.mean() - 3.0) > 1.0  # it started far away


@pytest.mark.slow
def test_toy_ring_covers_most_of_its_8_modes(tmp_path):
    state = _train("toy-ring", tmp_path, "monitor.enabled=false")
    covered, quality = _modes_covered(generated_samples(state, 5000, seed=1), TOYS["toy-ring"])
    assert covered >= 6, covered
    assert quality > 0.4, quality


@pytest.mark.slow
@requires_real_mnist
def test_mnist_2014_losses_move_as_expected_on_real_data(tmp_path):
    state = _train("mnist-2014", tmp_path, f"data.root={real_data_root() / 'mnist'}", "train.steps=400",
                   "train.log_every=50", "monitor.every=400")
    train = [r for r in read_metrics(RunDir(tmp_path).metrics) if "d_loss" in r]
    first, last = train[0], train[-1]
    # at initialisation D(x) = D(G(z)) = 1/2: d_loss = log 2, V = -log 4
    assert first["d_loss"] == pytest.approx(np.log(2), abs=0.01) and first["value"] == pytest.approx(-np.log(4), abs=0.02)
    # D learns to tell them apart: its loss falls, V rises, D(x) > D(G(z)); G's -log D(G(z)) rises
    assert last["d_loss"] < first["d_loss"] - 0.1
    assert last["value"] > first["value"] + 0.2
    assert last["d_real"] > last["d_fake"] + 0.1
    assert last["g_loss"] > first["g_loss"]
    samples = generated_samples(state, 500, seed=0)
    assert samples.shape == (500, 1, 28, 28) and 0 <= samples.min() and samples.max() <= 1
    untrained = Trainer(load_config(str(RunDir(tmp_path).config)), tmp_path / "untrained").gan.generator
    initial = generated_samples({**state, "generator": untrained.state_dict()}, 500, seed=0)
    assert np.abs(samples - initial).mean() > 0.02  # G has moved away from its initial output
