"""The run folder's lock: one process trains in a folder at a time; a killed holder never blocks."""

import os
import signal
import subprocess
import sys
import time

import pytest

from gannet.training.run_dir import RunDir, RunFolderBusy, RunLock

HOLD = """
import sys, time
from pathlib import Path
from gannet.training.run_dir import RunDir, RunLock
RunLock(RunDir(Path(sys.argv[1]))).acquire()
print("locked", flush=True)
time.sleep(120)
"""


def _holder(folder):
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_a_second_lock_in_the_same_process_is_refused_and_release_frees_it(tmp_path):
    run = RunDir(tmp_path / "run")
    first = RunLock(run).acquire()
    with pytest.raises(RunFolderBusy, match=rf"run is in use: process {os.getpid()} on "):
        RunLock(run).acquire()
    first.release()
    with RunLock(run):
        assert run.lock_file.exists()


def test_another_live_process_holds_the_folder_and_its_pid_is_named(tmp_path):
    run = RunDir(tmp_path / "run")
    proc = _holder(run.root)
    try:
        with pytest.raises(RunFolderBusy, match=rf"process {proc.pid} on .* is training there"):
            RunLock(run).acquire()
    finally:
        proc.kill()
        proc.wait()


def test_a_lock_left_by_a_killed_process_does_not_block(tmp_path):
    run = RunDir(tmp_path / "run")
    proc = _holder(run.root)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert run.lock_file.exists()  # the file stays behind, but nobody holds it
    deadline = time.monotonic() + 10
    while True:
        try:
            RunLock(run).acquire().release()
            break
        except RunFolderBusy:
            assert time.monotonic() < deadline, "the kernel did not drop the killed process's lock"
            time.sleep(0.1)


def test_clear_keeps_only_the_lock(tmp_path):
    run = RunDir(tmp_path / "run")
    with RunLock(run):
        (run.root / "checkpoints").mkdir()
        run.last.write_bytes(b"x")
        run.metrics.write_text("{}\n")
        run.clear()
        assert [p.name for p in run.root.iterdir()] == [".lock"]
        assert not run.has_run()
