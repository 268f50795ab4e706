"""Every post-2014 recipe learns on real data: a few hundred steps at reduced width raise the
validation Parzen log-likelihood of its samples far above that of its initial generator."""

import numpy as np
import pytest

from gannet.checkpoint import load_checkpoint
from gannet.config import load_config
from gannet.data import load_dataset
from gannet.metrics.parzen import log_likelihood
from gannet.train.run_dir import RunDir
from gannet.train.trainer import Trainer, generated_samples
from tests.conftest import real_data_root, requires_real_mnist

SMALL = ["generator.width=16", "discriminator.width=16", "train.batch_size=32", "train.log_every=50",
         "train.checkpoint_every=100", "train.keep_checkpoints=true", "monitor.enabled=false",
         "train.sample_every=100000", "train.progress=false", "train.tensorboard=false", "device=cpu"]


@pytest.mark.slow
@requires_real_mnist
@pytest.mark.parametrize("recipe, steps", [("dcgan-mnist", 200), ("dcgan-fashion-mnist", 200), ("wgan-gp-mnist", 100)])
def test_recipe_learns(tmp_path, recipe, steps):
    dataset = load_config(recipe).data.name
    cfg = load_config(recipe, [*SMALL, f"train.steps={steps}", f"data.root={real_data_root() / dataset}"])
    Trainer(cfg, tmp_path).run()
    valid = load_dataset(cfg.data).valid[:500]
    run = RunDir(tmp_path)

    def score(path):
        samples = generated_samples(load_checkpoint(path), 1000, seed=1)
        return float(np.mean(log_likelihood(samples, valid, 0.2)))

    before, after = score(run.snapshot(0)), score(run.last)
    assert after > before + 100, (before, after)
