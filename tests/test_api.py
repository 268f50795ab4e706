"""The Python API: gannet.load, gannet.train, gannet.evaluate, gannet.recipes and Run."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import gannet
from gannet.checkpoint import CheckpointError, generator_only, load_checkpoint, save_checkpoint
from gannet.config import ConfigError
from gannet.data import DataError
from gannet.errors import UsageError
from gannet.sampling import generated_samples
from gannet.training.run_dir import RunDir

TINY = {"train.steps": 20, "train.progress": False, "train.tensorboard": False, "monitor.enabled": False}


@pytest.fixture(scope="module")
def ring(tmp_path_factory):
    return gannet.train("toy-ring", out=tmp_path_factory.mktemp("api") / "ring", overrides=TINY, quiet=True)


def test_import_gannet_is_light_and_exports_the_functions():
    code = ("import sys, gannet; assert 'torch' not in sys.modules, 'import gannet read torch'; "
            "import gannet.training, gannet.evaluation; "
            "assert callable(gannet.train) and callable(gannet.evaluate) and gannet.train.__module__ == 'gannet.api'; "
            "print(sorted(n for n in gannet.__all__ if not n.startswith('_')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == str(sorted(["load", "train", "evaluate", "recipes", "Run", "Generator"]))
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        gannet.nonsense  # noqa: B018


def test_train_returns_a_run_with_its_metrics_and_config(ring):
    assert isinstance(ring, gannet.Run) and (ring.folder / "checkpoints" / "last.pt").exists()
    assert ring.config.train.steps == 20 and ring.config.data.name == "toy-ring"
    records = ring.metrics()
    assert records and all(isinstance(r, dict) for r in records) and max(r["step"] for r in records) == 20
    assert "d_loss" in records[-1]


def test_load_gives_an_eval_mode_module_whose_samples_are_seeded(ring):
    G = gannet.load(ring)
    assert isinstance(G, torch.nn.Module) and not G.training and not any(m.training for m in G.modules())
    a, b, c = G.sample(50, seed=3), G.sample(50, seed=3), G.sample(50, seed=4)
    assert a.shape == (50, 2) and a.dtype == torch.float32 and torch.equal(a, b) and not torch.equal(a, c)
    # the same samples as gannet sample / eval draw with that seed
    assert np.array_equal(a.numpy(), generated_samples(load_checkpoint(RunDir(ring.folder).last), 50, seed=3))
    z = G.noise(50, seed=3)
    assert z.shape == (50, G.latent_dim) and torch.equal(G(z), a)
    assert G.config.noise.prior == "uniform" and float(z.abs().max()) <= 3 ** 0.5
    assert not G.training  # sample() leaves the mode as it was
    torch.manual_seed(0)
    first = G.sample(5)
    torch.manual_seed(0)
    assert torch.equal(G.sample(5), first)  # seed=None follows torch.manual_seed


def test_a_batch_norm_generator_samples_from_running_statistics(tmp_path):
    run = gannet.train("toy-ring-pacgan", out=tmp_path / "bn", overrides={**TINY, "generator.batch_norm": True},
                       quiet=True)
    G = gannet.load(run)
    assert not G.training and any(isinstance(m, torch.nn.BatchNorm1d) for m in G.modules())
    z = G.noise(64, seed=0)
    alone = torch.cat([G(z[i:i + 1]) for i in range(4)])
    assert torch.allclose(alone, G(z)[:4], atol=1e-6)  # a sample does not depend on its batch
    G.sample(8, seed=0)
    assert not G.training


def test_load_accepts_checkpoints_and_generator_only_files_alike(ring, tmp_path):
    last = RunDir(ring.folder).last
    small = tmp_path / "g.pt"
    save_checkpoint(generator_only(load_checkpoint(last)), small)
    from_run, from_file, from_small = gannet.load(ring.folder), gannet.load(last), gannet.load(str(small))
    assert torch.equal(from_run.sample(10, seed=1), from_file.sample(10, seed=1))
    assert torch.equal(from_file.sample(10, seed=1), from_small.sample(10, seed=1))
    assert gannet.load(ring, checkpoint="last").step == 20


def test_load_errors_are_the_clis(ring, tmp_path):
    with pytest.raises(UsageError, match="no such run folder or checkpoint"):
        gannet.load(tmp_path / "nothing")
    with pytest.raises(CheckpointError, match="holds no moving average of G"):
        gannet.load(ring, generator="average")
    with pytest.raises(ValueError, match="generator must be one of auto, average, raw"):
        gannet.load(ring, generator="best")
    with pytest.raises(UsageError, match="checkpoint must be best or last"):
        gannet.load(ring, checkpoint="first")
    evil = tmp_path / "evil.pt"
    torch.save({"format": "gannet-checkpoint", "x": Path("/")}, evil)  # a pickled object, not plain data
    with pytest.raises(CheckpointError, match="refused to load"):
        gannet.load(evil)


def test_train_errors_are_exceptions_not_exits(tmp_path):
    with pytest.raises(ConfigError, match="train.k"):
        gannet.train("toy-ring", out=tmp_path / "a", overrides={**TINY, "train.k": 0})
    with pytest.raises(ConfigError, match="neither a YAML file nor a recipe; did you mean 'toy-ring'"):
        gannet.train("toy-rnig", out=tmp_path / "b")
    with pytest.raises(DataError, match="gannet data download mnist"):
        gannet.train("mnist-2014", out=tmp_path / "c", overrides={"data.root": str(tmp_path)})
    assert not (tmp_path / "a").exists() and not (tmp_path / "c").exists()


def test_typed_overrides_are_used_as_given_not_reparsed(tmp_path):
    # a text key whose value YAML would read as a number, a boolean or null stays the string given
    run = gannet.train({"description": "from a dict", "data": {"name": "toy-ring"}}, out=tmp_path / "d",
                       overrides={**TINY, "description": "1e3", "train.log_every": 10}, quiet=True)
    assert run.config.description == "1e3" and run.config.train.log_every == 10
    assert [r["step"] for r in run.metrics() if "d_loss" in r] == [10, 20]
    with pytest.raises(ConfigError, match="overrides must be a dict"):
        gannet.train("toy-ring", overrides=["train.steps=20"])


def test_an_occupied_folder_is_refused_and_resume_extends_it(ring, tmp_path):
    with pytest.raises(UsageError, match="already holds a run; continue it with --resume"):
        gannet.train("toy-ring", out=ring.folder, overrides=TINY)
    copy = tmp_path / "copy"
    import shutil

    shutil.copytree(ring.folder, copy)
    with pytest.raises(UsageError, match="cannot change loss.name when resuming"):
        gannet.train("toy-ring", out=copy, overrides={"train.steps": 30, "loss.name": "minimax"}, resume=True)
    resumed = gannet.train("toy-ring", out=copy, overrides={"train.steps": 30}, resume=True, quiet=True)
    assert gannet.load(resumed).step == 30 and max(r["step"] for r in resumed.metrics()) == 30


def test_evaluate_returns_and_writes_the_clis_record(ring, capsys):
    from gannet.cli import main

    record = gannet.evaluate(ring, metric="modes", samples=300, seed=2)
    written = ring.folder / "eval_modes_last.json"
    assert json.loads(written.read_text()) == json.loads(json.dumps(record))
    assert record["metric"] == "modes" and record["protocol"]["n_samples"] == 300
    assert main(["eval", str(ring.folder), "--metric", "modes", "--samples", "300", "--seed", "2"]) == 0
    cli = json.loads(written.read_text())
    assert cli["modes_covered"] == record["modes_covered"] and cli["histogram_jsd"] == record["histogram_jsd"]
    written.unlink()
    quiet = gannet.evaluate(ring.folder, metric="modes", samples=300, seed=2, write=False)
    assert not written.exists() and quiet["histogram_jsd"] == record["histogram_jsd"]


def test_evaluate_all_and_its_errors(ring):
    records = gannet.evaluate(ring, metric="all", samples=200, write=False)
    assert set(records) == {"parzen", "modes"}  # what applies to a 2-D toy
    with pytest.raises(DataError, match="classifier metrics need one of mnist, fashion-mnist; 'toy-ring'"):
        gannet.evaluate(ring, metric="classifier", write=False)
    with pytest.raises(UsageError, match="unknown evaluation option sample"):
        gannet.evaluate(ring, metric="modes", sample=10)
    with pytest.raises(UsageError, match="unknown metric 'fid'"):
        gannet.evaluate(ring, metric="fid")
    with pytest.raises(UsageError, match="must be positive"):
        gannet.evaluate(ring, metric="modes", samples=0)


def test_recipes_are_names_with_descriptions():
    recipes = gannet.recipes()
    assert {"mnist-2014", "toy-ring", "dcgan-mnist"} <= set(recipes)
    assert all(isinstance(d, str) and d for d in recipes.values())
