"""The command line contract: train, sample, recipes, data download; errors and exit codes."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
import pytest
from PIL import Image

from gannet.checkpoint import is_generator_only, load_checkpoint
from gannet.cli import main
from gannet.training.run_dir import RunDir, read_metrics

QUIET = ["train.progress=false", "train.tensorboard=false"]


def _train(*args):
    return main(["train", *args, *QUIET])


def test_recipes_lists_every_recipe_with_a_line(capsys):
    assert main(["recipes"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    names = [line.split()[0] for line in lines]
    assert {"digits", "mnist-2014", "fashion-mnist", "toy-1d", "toy-ring", "toy-grid"} <= set(names)
    assert all(len(line.split(None, 1)) == 2 for line in lines)


def test_usage_and_unknown_command(capsys):
    assert main(["--help"]) == 0
    assert "train CONFIG [KEY=VALUE ...]" in capsys.readouterr().out
    assert main(["frobnicate"]) == 2
    assert "unknown command 'frobnicate'" in capsys.readouterr().err


@pytest.mark.parametrize("override, key", [("train.k=0", "train.k"), ("optim.lr=-1", "optim.lr"),
                                           ("train.bogus=1", "train.bogus")])
def test_config_errors_stop_before_anything_is_written(tmp_path, capsys, override, key):
    out = tmp_path / "run"
    assert _train("toy-1d", override, "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: invalid recipe 'toy-1d'") and key in err
    assert not out.exists()


def test_missing_data_is_a_clear_error(tmp_path, capsys):
    assert _train("mnist-2014", f"data.root={tmp_path}", "--out", str(tmp_path / "run")) == 2
    assert "gannet data download mnist" in capsys.readouterr().err


def test_train_sample_resume_cycle(tmp_path, capsys):
    out = tmp_path / "run"
    assert _train("toy-ring", "train.steps=40", "train.checkpoint_every=20", "loss.generator=minimax",
                  "--out", str(out)) == 0
    assert load_checkpoint(RunDir(out).last)["step"] == 40

    # an existing run is never silently replaced
    assert _train("toy-ring", "train.steps=40", "--out", str(out)) == 2
    assert "--resume" in capsys.readouterr().err

    # resuming with a change to what is trained is refused, naming the key
    assert _train("toy-ring", "train.steps=60", "loss.generator=nonsaturating", "--out", str(out), "--resume") == 2
    assert "cannot change loss.generator when resuming" in capsys.readouterr().err
    # so is resuming with another config
    assert _train("toy-grid", "--out", str(out), "--resume") == 2
    err = capsys.readouterr().err
    assert "data.name: run has 'toy-ring', toy-grid has 'toy-grid'" in err and "config.yaml" in err

    # the run's own recipe resumes with the run's saved config (its overrides included);
    # a larger train.steps extends the finished run
    assert _train("toy-ring", "train.steps=60", "--out", str(out), "--resume") == 0
    state = load_checkpoint(RunDir(out).last)
    assert state["step"] == 60 and state["config"]["loss"]["name"] == "minimax"
    assert max(r["step"] for r in read_metrics(RunDir(out).metrics)) == 60

    # the saved config resumes too
    assert _train(str(RunDir(out).config), "train.steps=70", "--out", str(out), "--resume") == 0
    assert load_checkpoint(RunDir(out).last)["step"] == 70

    npy = tmp_path / "s.npy"
    assert main(["sample", str(out), "-n", "37", "--out", str(npy), "--checkpoint", "last"]) == 0
    assert np.load(npy).shape == (37, 2)
    png = tmp_path / "s.png"
    assert main(["sample", str(RunDir(out).last), "-n", "500", "--out", str(png)]) == 0
    assert Image.open(png).size[0] > 100

    assert _train("toy-ring", "--out", str(out), "--overwrite", "train.steps=5") == 0
    assert load_checkpoint(RunDir(out).last)["step"] == 5


def test_bad_sizes_and_devices_are_clear_errors_and_write_nothing(tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"
    assert _train("digits", "train.batch_size=5000", "--out", str(out)) == 2
    assert "train.batch_size=5000 is larger than the 1500 training examples" in capsys.readouterr().err
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    assert _train("digits", "device=cuda", "--out", str(out)) == 2
    assert "PyTorch sees no CUDA device" in capsys.readouterr().err
    np.save(tmp_path / "a.npy", np.zeros((10, 2)))
    assert _train("toy-1d", "data.name=npz", f"data.path={tmp_path / 'a.npy'}", "--out", str(out)) == 2
    assert "expected an .npz archive" in capsys.readouterr().err
    assert not out.exists()


def test_sample_image_grid_and_errors(tmp_path, capsys):
    out = tmp_path / "run"
    assert _train("digits", "train.steps=5", "--out", str(out)) == 0
    png = tmp_path / "grid.png"
    assert main(["sample", str(out), "-n", "16", "--out", str(png)]) == 0
    assert "best.pt" in capsys.readouterr().err  # a run with a validation estimate samples its best checkpoint
    image = np.asarray(Image.open(png))
    assert image.ndim == 2 and image.shape[0] == image.shape[1]
    assert main(["sample", str(out), "-n", "4", "--out", str(tmp_path / "x.jpg")]) == 2
    assert main(["sample", str(tmp_path / "nothing"), "-n", "4", "--out", str(png)]) == 2
    assert "no such run folder" in capsys.readouterr().err
    assert main(["train", "digits", "--resume"]) == 2
    assert "--resume needs --out" in capsys.readouterr().err


def test_data_download_offline_exit_code(tmp_path, capsys):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert main(["data", "download", "mnist", "--root", str(tmp_path), "--mirror", f"http://127.0.0.1:{port}"]) == 2
    assert "could not download" in capsys.readouterr().err


def test_ctrl_c_saves_a_checkpoint_that_resumes(tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "gannet", "train", "digits", "train.steps=1000000", "train.checkpoint_every=50",
           "--out", str(out), *QUIET]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 120
    while not RunDir(out).last.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "stopped by SIGINT" in err and "--resume" in err
    step = load_checkpoint(RunDir(out).last)["step"]
    assert step >= 50
    assert main(["train", "digits", f"train.steps={step + 10}", "--out", str(out), "--resume", *QUIET]) == 0
    assert load_checkpoint(RunDir(out).last)["step"] == step + 10


def test_module_entry_point_runs():
    result = subprocess.run([sys.executable, "-m", "gannet", "recipes"], capture_output=True, text=True)
    assert result.returncode == 0 and "mnist-2014" in result.stdout
    assert Path(sys.executable).parent.joinpath("gannet").exists()


def test_export_keeps_only_the_generator_and_it_samples_and_evaluates_alike(tmp_path, capsys, fake_mnist,
                                                                             monkeypatch):
    run = tmp_path / "run"
    assert _train("mnist-2014", "--out", str(run), f"data.root={fake_mnist}", "data.valid_size=100",
                  "train.batch_size=20", "train.steps=4", "monitor.enabled=false") == 0
    out = tmp_path / "results" / "g.pt"
    assert main(["export", str(run), "--out", str(out)]) == 0
    exported, full = load_checkpoint(out), load_checkpoint(RunDir(run).last)
    assert "discriminator" not in exported and "opt_g" not in exported and exported["contents"] == "generator"
    assert is_generator_only(exported) and not is_generator_only(full)
    assert full["config"]["data"]["root"] == str(fake_mnist) and exported["config"]["data"]["root"] is None
    monkeypatch.setenv("GANNET_DATA", str(fake_mnist.parent))  # where an exported file finds its data
    assert out.stat().st_size < RunDir(run).last.stat().st_size / 2
    assert all((exported["generator"][k] == v).all() for k, v in full["generator"].items())
    for source, name in ((run, "full.npy"), (out, "exported.npy")):
        assert main(["sample", str(source), "-n", "8", "--out", str(tmp_path / name)]) == 0
    assert np.array_equal(np.load(tmp_path / "full.npy"), np.load(tmp_path / "exported.npy"))
    assert main(["eval", str(out), "--samples", "50", "--valid", "20"]) == 0
    assert "Parzen log-likelihood" in capsys.readouterr().out
    assert (out.parent / "eval_parzen_g.json").exists()
    assert main(["export", str(run), "--out", str(tmp_path / "g.bin")]) == 2
    assert "must end in .pt" in capsys.readouterr().err
    assert main(["export", str(run), "--out", str(RunDir(run).last)]) == 2
    assert "would replace a run's own checkpoint" in capsys.readouterr().err
    assert main(["figures", str(out), "--figure", "3", "--out", str(tmp_path / "f3.png")]) == 0
    assert main(["eval", str(RunDir(run).last), "--samples", "50", "--valid", "20"]) == 0
    from_full = capsys.readouterr().out.splitlines()[0]
    assert main(["eval", str(out), "--samples", "50", "--valid", "20"]) == 0
    assert capsys.readouterr().out.splitlines()[0].split("(step")[0] == from_full.split("(step")[0]


def test_export_with_discriminator_and_half_keeps_q_for_the_codes_metric(tmp_path, capsys, fake_mnist):
    run = tmp_path / "run"
    assert _train("infogan-mnist", "--out", str(run), f"data.root={fake_mnist}", "data.valid_size=100",
                  "train.batch_size=20", "train.steps=3", "monitor.enabled=false", "generator.width=4",
                  "discriminator.width=4", "generator.dense=8", "discriminator.dense=8", "train.ema=0.9") == 0
    plain, full_file = tmp_path / "g.pt", tmp_path / "gq16.pt"
    assert main(["export", str(run), "--out", str(plain), "--generator", "average"]) == 0
    assert main(["eval", str(plain), "--metric", "codes", "--data-root", str(fake_mnist)]) == 2
    assert "no Q" in capsys.readouterr().err
    assert main(["export", str(run), "--out", str(full_file), "--generator", "average", "--with-discriminator",
                 "--half"]) == 0
    exported, full = load_checkpoint(full_file), load_checkpoint(RunDir(run).last)
    assert exported["contents"] == "generator and discriminator" and exported["stored_as"] == "float16"
    assert exported["averaged"] and "opt_d" not in exported
    weights = exported["discriminator"]["code_head.net.0.weight"]
    assert weights.dtype == torch.float16
    torch.testing.assert_close(weights.float(), full["discriminator"]["code_head.net.0.weight"], rtol=1e-3, atol=1e-4)
    assert main(["eval", str(full_file), "--metric", "codes", "--data-root", str(fake_mnist)]) == 0
    assert "codes" in capsys.readouterr().out
    assert main(["sample", str(full_file), "-n", "4", "--out", str(tmp_path / "s.npy")]) == 0
    assert np.load(tmp_path / "s.npy").dtype == np.float32
    assert main(["export", str(full_file), "--out", str(tmp_path / "again.pt"), "--with-discriminator"]) == 0
    assert main(["export", str(plain), "--out", str(tmp_path / "no.pt"), "--with-discriminator"]) == 2
    assert "no discriminator" in capsys.readouterr().err


_LAUGHS = "l0: &l0 [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]\n" for i in range(1, 9))


@pytest.mark.parametrize("content, overrides, fragments", [
    ("train:\n  steps: 3\n  steps: 5\n", [], ["'train.steps'", "twice", "lines 2 and 3"]),
    (_LAUGHS + "seed: *l8\n", [], ["alias", "line 1"]),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", [], ["not a YAML text file"]),
    ("seed: -1\n", [], ["seed", "non-negative integer"]),
    ("data:\n  name: toy-1d\n", ["seed=-5"], ["seed", "non-negative integer"]),
])
def test_config_file_errors_are_one_short_error_line_and_exit_2(tmp_path, capsys, content, overrides, fragments):
    path = tmp_path / "config.yaml"
    path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    out = tmp_path / "run"
    start = time.perf_counter()
    assert _train(str(path), *overrides, "--out", str(out)) == 2
    assert time.perf_counter() - start < 10
    err = capsys.readouterr().err
    assert err.startswith("error: ") and str(path) in err and len(err) < 2000, err[:3000]
    assert "Traceback" not in err and all(f in err.replace(str(path), "") for f in fragments), err
    assert not out.exists()

