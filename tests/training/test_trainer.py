"""Runs survive: exact resume, crash recovery, divergence, atomic checkpoints."""

import dataclasses
import json
import math
import os
import signal

import pytest
import torch

from gannet.checkpoint import load_checkpoint
from gannet.config import load_config
from gannet.hardware import bf16_is_fast, cpu_capability
from gannet.training.run_dir import RunDir, read_metrics
from gannet.training.trainer import Trainer, TrainingDiverged, TrainingInterrupted, resolve_precision

TIMING = {"images_per_s"}


def _cfg(*overrides, recipe="digits"):
    base = ["train.steps=60", "train.log_every=5", "train.checkpoint_every=20", "train.sample_every=30",
            "monitor.every=15", "train.progress=false", "train.tensorboard=false", "device=cpu"]
    return load_config(recipe, base + list(overrides))


def _metrics(run):
    return [{k: v for k, v in r.items() if k not in TIMING} for r in read_metrics(RunDir(run).metrics)]


def _params(run):
    state = load_checkpoint(RunDir(run).last)
    return {**state["generator"], **{f"D.{k}": v for k, v in state["discriminator"].items()}}


@pytest.mark.parametrize("update", ["alternating", "simultaneous"])
def test_ctrl_c_then_resume_is_bit_identical(tmp_path, update):
    straight = tmp_path / "straight"
    Trainer(_cfg(f"train.update={update}"), straight).run()

    stopped = tmp_path / "stopped"
    trainer = Trainer(_cfg(f"train.update={update}"), stopped)
    original = trainer.step_fn

    def ctrl_c_during_step_33(gan, batches, k, loss):
        if trainer.step == 32:
            os.kill(os.getpid(), signal.SIGINT)  # arrives mid-step; honoured once the step is complete
        return original(gan, batches, k, loss)

    trainer.step_fn = ctrl_c_during_step_33
    with pytest.raises(TrainingInterrupted, match="stopped by SIGINT at step 33"):
        trainer.run()
    assert load_checkpoint(RunDir(stopped).last)["step"] == 33
    Trainer(_cfg(f"train.update={update}"), stopped, resume=True).run()

    assert _metrics(straight) == _metrics(stopped)
    a, b = _params(straight), _params(stopped)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("update", ["alternating", "simultaneous"])
def test_extended_run_matches_a_longer_one(tmp_path, update):
    straight = tmp_path / "straight"
    Trainer(_cfg(f"train.update={update}"), straight).run()

    resumed = tmp_path / "resumed"
    Trainer(_cfg(f"train.update={update}", "train.steps=40"), resumed).run()  # stops at step 40 ...
    Trainer(_cfg(f"train.update={update}"), resumed, resume=True).run()  # ... and is extended to 60

    # the extended run also validated at its old last step, 40; everything else is identical
    resumed_metrics = [r for r in _metrics(resumed) if not ("valid_parzen_ll" in r and r["step"] == 40)]
    strip = lambda rs: [{k: v for k, v in r.items() if k != "best"} for r in rs]
    assert strip(_metrics(straight)) == strip(resumed_metrics)
    a, b = _params(straight), _params(resumed)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert load_checkpoint(RunDir(resumed).last)["step"] == 60


def test_crash_after_a_checkpoint_resumes_exactly(tmp_path, monkeypatch):
    cfg = _cfg("train.checkpoint_every=18")  # mid logging interval: the running means are saved too
    straight = tmp_path / "straight"
    Trainer(cfg, straight).run()

    crashed = tmp_path / "crashed"
    trainer = Trainer(cfg, crashed)
    original = trainer.step_fn

    def crash_at_step_33(gan, batches, k, loss):
        if trainer.step == 32:
            raise RuntimeError("power cut")
        return original(gan, batches, k, loss)

    trainer.step_fn = crash_at_step_33
    with pytest.raises(RuntimeError, match="power cut"):
        trainer.run()
    assert load_checkpoint(RunDir(crashed).last)["step"] == 18
    assert max(r["step"] for r in read_metrics(RunDir(crashed).metrics)) == 30  # logged past the checkpoint

    Trainer(cfg, crashed, resume=True).run()
    assert _metrics(straight) == _metrics(crashed)
    a, b = _params(straight), _params(crashed)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_nan_stops_the_run_says_when_and_keeps_the_last_good_checkpoint(tmp_path):
    trainer = Trainer(_cfg(), tmp_path / "run")
    calls = {"n": 0}

    def loss_that_breaks(fake_logits):
        calls["n"] += 1
        loss = torch.nn.functional.softplus(-fake_logits).mean()
        return loss * float("nan") if calls["n"] >= 27 else loss

    trainer.loss = dataclasses.replace(trainer.loss, generator=loss_that_breaks)
    with pytest.raises(TrainingDiverged) as err:
        trainer.run()
    message = str(err.value)
    assert "NaN or infinite at step 27" in message and "last good checkpoint" in message and "optim.lr" in message
    state = load_checkpoint(RunDir(tmp_path / "run").last)
    assert state["step"] == 20
    assert all(torch.isfinite(v).all() for v in state["generator"].values())


def test_nan_weights_are_caught_before_a_checkpoint_is_written(tmp_path):
    trainer = Trainer(_cfg("train.checkpoint_every=10"), tmp_path / "run")
    original = trainer.step_fn

    def corrupt_in_step_20(gan, batches, k, loss):
        stats = original(gan, batches, k, loss)
        if trainer.step == 19:  # after the update of step 20, whose statistics are finite
            with torch.no_grad():
                next(gan.discriminator.parameters())[0, 0] = float("inf")
        return stats

    trainer.step_fn = corrupt_in_step_20
    with pytest.raises(TrainingDiverged, match="weights became NaN or infinite by step 20"):
        trainer.run()
    assert load_checkpoint(RunDir(tmp_path / "run").last)["step"] == 10


def test_resume_on_another_device_type_continues_with_a_note(tmp_path):
    from gannet.checkpoint import save_checkpoint

    run = tmp_path / "run"
    Trainer(_cfg("train.steps=20"), run).run()
    state = load_checkpoint(RunDir(run).last)
    state["device_type"] = "cuda"  # as if it had run on a GPU
    state["rng"]["noise"] = torch.zeros(16, dtype=torch.uint8)  # a CUDA generator's state
    save_checkpoint({k: v for k, v in state.items() if k not in ("format", "version")}, RunDir(run).last)
    trainer = Trainer(_cfg("train.steps=30"), run, resume=True)
    assert "continues on cpu" in trainer.resume_note
    trainer.run()
    assert load_checkpoint(RunDir(run).last)["step"] == 30


def test_run_folder_contents(tmp_path):
    cfg = _cfg("train.tensorboard=true")
    record = Trainer(cfg, tmp_path).run()
    run = RunDir(tmp_path)
    assert run.config.read_text().startswith("description:")
    assert load_config(str(run.config)) == cfg
    records = read_metrics(run.metrics)
    train = [r for r in records if "d_loss" in r]
    valid = [r for r in records if "valid_parzen_ll" in r]
    assert [r["step"] for r in train] == list(range(5, 61, 5))
    assert [r["step"] for r in valid] == [15, 30, 45, 60]
    for key in ("d_loss", "g_loss", "value", "d_real", "d_fake", "lr", "momentum", "images_per_s", "epoch"):
        assert key in record
    assert record["momentum"] == pytest.approx(0.5 + 0.2 * (record["epoch"] - 1) / 249)
    assert sorted(p.name for p in run.samples.iterdir()) == ["step_0000030.png", "step_0000060.png"]
    assert run.last.exists() and run.best.exists()
    best_step = max(valid, key=lambda r: r["valid_parzen_ll"])["step"]
    assert load_checkpoint(run.best)["step"] == best_step
    assert any(run.tensorboard.iterdir())
    assert not list(tmp_path.rglob("*.tmp"))


def test_same_seed_same_run_other_seed_other_run(tmp_path):
    Trainer(_cfg("train.steps=10"), tmp_path / "a").run()
    Trainer(_cfg("train.steps=10"), tmp_path / "b").run()
    Trainer(_cfg("train.steps=10", "seed=1"), tmp_path / "c").run()
    a, b, c = _params(tmp_path / "a"), _params(tmp_path / "b"), _params(tmp_path / "c")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_metrics_lines_are_json(tmp_path):
    Trainer(_cfg("train.steps=10"), tmp_path).run()
    for line in (tmp_path / "metrics.jsonl").read_text().splitlines():
        json.loads(line)


@pytest.mark.parametrize("fast", [True, False])
def test_auto_precision_is_bf16_only_where_the_hardware_has_it_and_never_for_a_vae(monkeypatch, fast):
    monkeypatch.setattr("gannet.training.trainer.bf16_is_fast", lambda device: fast)
    cpu = torch.device("cpu")
    assert resolve_precision("auto", cpu) == ("bf16" if fast else "fp32")
    assert resolve_precision("auto", cpu, "vae") == "fp32"
    assert resolve_precision("fp32", cpu) == "fp32"


@pytest.mark.skipif(not bf16_is_fast("cpu"), reason=f"this CPU ({cpu_capability()}) has no native bf16: gannet "
                    f"refuses precision=bf16 here")
def test_bf16_autocast_keeps_fp32_weights_and_learns(tmp_path):
    run = tmp_path / "bf16"
    Trainer(_cfg("precision=bf16", "train.steps=200", "train.log_every=50"), run).run()
    state = load_checkpoint(RunDir(run).last)
    assert all(v.dtype == torch.float32 for v in state["generator"].values())  # master weights stay fp32
    train = [r for r in read_metrics(RunDir(run).metrics) if "d_loss" in r]
    assert all(math.isfinite(r["d_loss"]) and math.isfinite(r["g_loss"]) for r in train)
    assert train[-1]["d_real"] > train[-1]["d_fake"]  # D learned to separate them, as in fp32
