"""The command line under misuse: nothing already written is lost, and every failure is one `error:` line."""

import errno
import io
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

import gannet.checkpoint
from gannet.checkpoint import load_checkpoint, save_checkpoint
from gannet.cli import main
from gannet.training.run_dir import RunDir, read_metrics

QUIET = ["train.progress=false", "train.tensorboard=false"]


def _train(*args):
    return main(["train", *args, *QUIET])


def _error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


@pytest.fixture
def toy_run(tmp_path):
    out = tmp_path / "run"
    assert _train("toy-ring", "train.steps=40", "train.checkpoint_every=20", "--out", str(out)) == 0
    return out


# ------------------------------------------------------------------------------------------------
# one process per run folder


def _start_training(out, *extra):
    cmd = [sys.executable, "-m", "gannet", "train", "toy-ring", "train.steps=10000000", "train.checkpoint_every=50",
           "--out", str(out), *QUIET, *extra]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + 120
    while not RunDir(out).last.exists():
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.poll() else "slow"
        time.sleep(0.2)
    return proc


def test_a_folder_in_use_is_refused_even_with_overwrite_and_nothing_of_the_run_is_touched(tmp_path, capsys):
    out = tmp_path / "run"
    proc = _start_training(out, "seed=7")
    try:
        assert _train("toy-ring", "--out", str(out)) == 2
        assert f"is in use: process {proc.pid}" in _error_line(capsys)
        assert _train("toy-ring", "--out", str(out), "--overwrite") == 2
        assert f"is in use: process {proc.pid}" in _error_line(capsys)
        assert _train("toy-ring", "--out", str(out), "--resume") == 2
        assert "is in use" in _error_line(capsys)
        assert "seed: 7" in RunDir(out).config.read_text()  # the running run's config is still there
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    step = load_checkpoint(RunDir(out).last)["step"]
    # the lock went with the process: the run resumes with the command it was started with
    assert _train("toy-ring", "train.steps=10000000", "seed=7", f"train.steps={step + 5}", "--out", str(out),
                  "--resume") == 0
    assert load_checkpoint(RunDir(out).last)["step"] == step + 5


def test_a_run_whose_process_was_killed_resumes(tmp_path):
    out = tmp_path / "run"
    proc = _start_training(out)
    proc.kill()
    proc.communicate(timeout=60)
    step = load_checkpoint(RunDir(out).last)["step"]
    assert _train("toy-ring", f"train.steps={step + 5}", "--out", str(out), "--resume") == 0


# ------------------------------------------------------------------------------------------------
# resuming with one's own command


def test_resume_accepts_overrides_equal_to_the_runs_own(toy_run, capsys):
    # the command the run was started with, plus --resume and a longer train.steps
    assert _train("toy-ring", "train.steps=60", "train.checkpoint_every=20", "seed=0", "loss.name=nonsaturating",
                  "--out", str(toy_run), "--resume") == 0
    assert load_checkpoint(RunDir(toy_run).last)["step"] == 60
    assert _train("toy-ring", "train.steps=70", "seed=3", "--out", str(toy_run), "--resume") == 2
    assert "cannot change seed when resuming" in _error_line(capsys)


def test_a_run_killed_before_its_first_checkpoint_restarts_with_resume(toy_run, capsys):
    run = RunDir(toy_run)
    for path in run.last.parent.iterdir():  # as if killed before the first checkpoint was written
        path.unlink()
    assert _train("toy-ring", "--out", str(toy_run)) == 2
    assert "stopped before its first checkpoint" in _error_line(capsys)
    assert _train("toy-ring", "--out", str(toy_run), "--resume") == 0
    assert "restarting it from step 0" in capsys.readouterr().err
    assert load_checkpoint(run.last)["step"] == 40
    assert [r["step"] for r in read_metrics(run.metrics) if "d_loss" in r] == [40]  # a fresh log, not appended


# ------------------------------------------------------------------------------------------------
# output paths


def test_unusable_run_folders_are_errors_that_write_nothing(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    for out, expected in ((afile, "is an existing file"), (afile / "run", "is a file, so no folder"),
                          ("/proc/gannet-test/run", "cannot create the run folder")):
        assert _train("toy-ring", "train.steps=5", "--out", str(out)) == 2
        assert expected in _error_line(capsys)
    assert afile.read_text() == "keep me"


def test_a_config_error_leaves_no_folder_behind(tmp_path, capsys):
    out = tmp_path / "new" / "run"
    assert _train("toy-ring", "train.batch_size=100000", "--out", str(out)) == 2
    assert not out.exists()


def test_sample_to_an_unwritable_place_is_an_error(toy_run, tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("")
    for out, expected in (("/proc/gannet-test/s.npy", "cannot write in /proc/gannet-test"), (afile / "s.npy", "is a file"),
                          (tmp_path, "must end in")):
        assert main(["sample", str(toy_run), "-n", "5", "--out", str(out)]) == 2
        assert expected in _error_line(capsys)
    assert main(["sample", str(toy_run), "-n", "5", "--seed", "-1", "--out", str(tmp_path / "s.npy")]) == 2
    assert "--seed -1: a seed is a non-negative integer" in _error_line(capsys)


# ------------------------------------------------------------------------------------------------
# checkpoints that do not fit


def test_checkpoints_lacking_keys_or_with_weights_of_other_shapes_are_named(toy_run, tmp_path, capsys):
    state = load_checkpoint(RunDir(toy_run).last)
    lacking = tmp_path / "lacking.pt"
    save_checkpoint({k: v for k, v in state.items() if k != "generator"}, lacking)
    assert main(["sample", str(lacking), "-n", "5", "--out", str(tmp_path / "s.npy")]) == 2
    assert "lacking.pt: a gannet checkpoint must hold" in _error_line(capsys)

    malformed = tmp_path / "malformed.pt"
    save_checkpoint({**state, "data_shape": "x"}, malformed)
    assert main(["sample", str(malformed), "-n", "5", "--out", str(tmp_path / "s.npy")]) == 2
    assert "malformed.pt: data_shape 'x' is not a list of sizes" in _error_line(capsys)

    reshaped = tmp_path / "reshaped.pt"
    name = next(iter(state["generator"]))
    save_checkpoint({**state, "generator": {**state["generator"], name: torch.zeros(3, 3)}}, reshaped)
    assert main(["sample", str(reshaped), "-n", "5", "--out", str(tmp_path / "s.npy")]) == 2
    assert "reshaped.pt: the generator weights do not fit the network its config describes" in _error_line(capsys)

    # a run whose last checkpoint holds a D of another shape, or no optimiser state, cannot resume
    run = RunDir(toy_run)
    d_name = next(iter(state["discriminator"]))
    save_checkpoint({**state, "discriminator": {**state["discriminator"], d_name: torch.zeros(2)}}, run.last)
    assert _train("toy-ring", "train.steps=50", "--out", str(toy_run), "--resume") == 2
    assert "last.pt: cannot resume from it" in _error_line(capsys)
    save_checkpoint({k: v for k, v in state.items() if k != "opt_d"}, run.last)
    assert _train("toy-ring", "train.steps=50", "--out", str(toy_run), "--resume") == 2
    assert "cannot resume training: the checkpoint lacks opt_d" in _error_line(capsys)


# ------------------------------------------------------------------------------------------------
# a full disk, Ctrl-C


class _FullDisk(io.RawIOBase):
    """A file that takes a few bytes, then fails as a full disk does."""

    def __init__(self, room: int):
        self.room = room

    def writable(self):
        return True

    def write(self, data):
        self.room -= len(data)
        if self.room < 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return len(data)


def test_a_full_disk_while_checkpointing_stops_with_a_message_and_keeps_the_last_checkpoint(tmp_path, capsys,
                                                                                             monkeypatch):
    out = tmp_path / "run"
    real_write = gannet.checkpoint.atomic_write
    written = []

    def filling_disk(path, write):
        if written:  # the first last.pt fits, the next checkpoint does not
            real_write(path, lambda f: write(_FullDisk(1000)))
        real_write(path, write)
        written.extend([path] if path.name == "last.pt" else [])

    monkeypatch.setattr(gannet.checkpoint, "atomic_write", filling_disk)
    assert _train("toy-ring", "train.steps=40", "train.checkpoint_every=20", "--out", str(out)) == 2
    err = _error_line(capsys)
    assert ".pt: could not write the checkpoint: No space left on device;" in err
    assert load_checkpoint(RunDir(out).last)["step"] == 20
    assert not list(RunDir(out).last.parent.glob(".*.tmp"))


def test_ctrl_c_during_start_up_is_an_error_line(tmp_path, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("gannet.training.launch.load_config", interrupted)
    assert _train("toy-ring", "--out", str(tmp_path / "run")) == 130
    assert "error: interrupted (Ctrl-C) during gannet train" in _error_line(capsys)


def test_a_second_ctrl_c_stops_at_once_and_keeps_the_last_checkpoint(toy_run, capsys, monkeypatch):
    import gannet.training.trainer as trainer

    real_step = trainer.STEPS["alternating"]
    calls = []

    def second_ctrl_c(*args):
        calls.append(1)
        if len(calls) == 7:
            raise KeyboardInterrupt  # what _StopRequest raises on the second SIGINT
        return real_step(*args)

    monkeypatch.setitem(trainer.STEPS, "alternating", second_ctrl_c)
    assert _train("toy-ring", "train.steps=80", "--out", str(toy_run), "--resume") == 130
    err = _error_line(capsys)
    assert "interrupted again at step 46" in err and "last.pt, is kept" in err and "--resume" in err
    assert load_checkpoint(RunDir(toy_run).last)["step"] == 40


# ------------------------------------------------------------------------------------------------
# bf16 without hardware support, large sample requests


def test_bf16_is_refused_where_the_hardware_lacks_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("gannet.training.trainer.bf16_is_fast", lambda device: False)
    assert _train("toy-ring", "precision=bf16", "--out", str(tmp_path / "run")) == 2
    err = _error_line(capsys)
    assert "precision: bf16 needs hardware bf16 matrix products" in err and "precision=fp32" in err
    assert not (tmp_path / "run").exists()
    assert _train("toy-ring", "precision=auto", "train.steps=2", "--out", str(tmp_path / "auto")) == 0  # fp32 here
    assert "on cpu in fp32" in capsys.readouterr().err


def test_large_sample_requests_are_streamed_in_chunks(toy_run, tmp_path, capsys, monkeypatch):
    whole = tmp_path / "whole.npy"
    assert main(["sample", str(toy_run), "-n", "25", "--out", str(whole)]) == 0
    monkeypatch.setattr("gannet.sampling.SAMPLE_CHUNK", 10)
    from gannet.sampling import iter_samples

    parts = [len(p) for p in iter_samples(load_checkpoint(RunDir(toy_run).best if RunDir(toy_run).best.exists()
                                                          else RunDir(toy_run).last), 25, chunk=10)]
    assert parts == [10, 10, 5]
    chunked = tmp_path / "chunked.npy"
    assert main(["sample", str(toy_run), "-n", "25", "--out", str(chunked)]) == 0
    a, b = np.load(whole), np.load(chunked)
    assert a.shape == b.shape == (25, 2) and a.dtype == np.float32
    assert np.allclose(a[:10], b[:10], atol=1e-5)  # the first chunk draws the same noise (only the batch differs)

    monkeypatch.setattr("gannet.cli.shutil.disk_usage", lambda path: type("U", (), {"free": 10_000})())
    assert main(["sample", str(toy_run), "-n", "1000000", "--out", str(tmp_path / "big.npy")]) == 2
    assert "would take 0.01 GiB" in _error_line(capsys)
    assert main(["sample", str(toy_run), "-n", "1000000", "--out", str(tmp_path / "big.png")]) == 2
    assert "a PNG grid holds at most 10,000 samples" in _error_line(capsys)


def test_a_users_own_files_in_the_out_folder_are_never_deleted(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.txt").write_text("precious")
    (out / "sub").mkdir()
    assert _train("toy-ring", "train.steps=5", "--out", str(out)) == 2
    assert "holds files that are not a gannet run (sub, thesis.txt)" in _error_line(capsys)
    # --overwrite trains beside them, and a second --overwrite replaces only the run's own files
    for _ in range(2):
        assert _train("toy-ring", "train.steps=5", "--out", str(out), "--overwrite") == 0
        assert (out / "thesis.txt").read_text() == "precious" and (out / "sub").is_dir()
        assert load_checkpoint(RunDir(out).last)["step"] == 5
    # a config.yaml that is not a run's would be replaced by the run's: refused, even with --overwrite
    other = tmp_path / "configs"
    other.mkdir()
    (other / "config.yaml").write_text("seed: 1\n")
    assert _train("toy-ring", "--out", str(other), "--overwrite") == 2
    assert "config.yaml that is not a gannet run's" in _error_line(capsys)
    assert (other / "config.yaml").read_text() == "seed: 1\n"


def test_a_checkpoints_entry_that_is_not_a_folder_is_not_taken_for_a_fresh_run(toy_run, capsys):
    run = RunDir(toy_run)
    for path in run.last.parent.iterdir():
        path.unlink()
    run.last.parent.rmdir()
    run.last.parent.write_text("not a folder")
    assert _train("toy-ring", "--out", str(toy_run), "--resume") == 2
    assert "no last checkpoint to resume" in _error_line(capsys)
    assert run.metrics.exists()


def test_a_file_that_is_not_a_checkpoint_at_all_is_named(tmp_path, capsys):
    for name, data in (("text.pt", b"hi\n"), ("empty.pt", b""), ("garbage.pt", bytes(range(256)) * 4)):
        (tmp_path / name).write_bytes(data)
        assert main(["sample", str(tmp_path / name), "-n", "5", "--out", str(tmp_path / "s.npy")]) == 2
        err = _error_line(capsys)
        assert f"{name}: " in err and err.startswith("error: ") and not err.rstrip().endswith(":")


def test_a_device_that_is_not_there_is_an_error(toy_run, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    for device, expected in (("cuda", "PyTorch sees no such CUDA device"), ("potato", "expected cpu, cuda"),
                             ("meta", "expected cpu, cuda")):
        assert main(["sample", str(toy_run), "-n", "4", "--out", str(tmp_path / "s.npy"), "--device", device]) == 2
        assert expected in _error_line(capsys)
        assert main(["eval", str(toy_run), "--metric", "modes", "--device", device]) == 2
        assert expected in _error_line(capsys)
    assert not (tmp_path / "s.npy").exists()


def test_running_out_of_memory_is_an_error_line(tmp_path, capsys, monkeypatch):
    def allocate(*args, **kwargs):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:121] data. DefaultCPUAllocator: can't allocate memory: "
                           "you tried to allocate 51200000000 bytes. Error code 12 (Cannot allocate memory)")

    monkeypatch.setattr("gannet.training.trainer.build_generator", allocate)
    assert _train("toy-ring", "noise.dim=100000000", "--out", str(tmp_path / "run")) == 1
    assert "error: not enough memory: " in _error_line(capsys)
    assert not (tmp_path / "run").exists()


def test_argument_errors_and_flag_conflicts_are_error_lines(toy_run, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["sample", str(toy_run), "-n", "abc", "--out", str(tmp_path / "s.npy")])
    assert exit_.value.code == 2
    assert "error: gannet sample: argument -n: invalid int value: 'abc'" in capsys.readouterr().err.splitlines()
    assert _train("toy-ring", "--out", str(toy_run), "--resume", "--overwrite") == 2
    assert "give one of them" in _error_line(capsys)
    assert _train("toy-ring", "train.steps=40", "--out", str(toy_run), "--resume") == 2
    assert "the run is at step 40 and train.steps=40: nothing to do" in _error_line(capsys)
