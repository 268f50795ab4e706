"""The run folder: where a run's config, metrics, samples, TensorBoard events and checkpoints live.

    <out>/config.yaml             the resolved config
    <out>/metrics.jsonl           one JSON record per logging interval and per validation estimate
    <out>/tensorboard/            TensorBoard events (``tensorboard --logdir <out>``)
    <out>/samples/step_NNNNNNN.png  samples from a fixed noise batch
    <out>/checkpoints/last.pt     the latest checkpoint; best.pt: best by validation estimate;
                                  step_NNNNNNN.pt: every checkpoint, with train.keep_checkpoints
    <out>/.lock                   held by the process that trains in the folder (see RunLock)
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gannet.io import atomic_write_text


# What gannet writes in a run folder (besides eval_<metric>_<checkpoint>.json records and temporary files).
RUN_ENTRIES = ("config.yaml", "metrics.jsonl", "tensorboard", "samples", "checkpoints", "curves.png", ".lock")


@dataclass(frozen=True)
class RunDir:
    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.yaml"

    @property
    def metrics(self) -> Path:
        return self.root / "metrics.jsonl"

    @property
    def tensorboard(self) -> Path:
        return self.root / "tensorboard"

    @property
    def samples(self) -> Path:
        return self.root / "samples"

    @property
    def last(self) -> Path:
        return self.root / "checkpoints" / "last.pt"

    @property
    def best(self) -> Path:
        return self.root / "checkpoints" / "best.pt"

    def snapshot(self, step: int) -> Path:
        return self.root / "checkpoints" / f"step_{step:07d}.pt"

    def snapshots(self) -> list[Path]:
        """Kept checkpoints (``train.keep_checkpoints``), in step order."""
        return sorted((self.root / "checkpoints").glob("step_*.pt"))

    @staticmethod
    def step_of(snapshot: Path) -> int:
        """The step N of a kept checkpoint ``step_N.pt``."""
        return int(Path(snapshot).stem.split("_")[1])

    def sample_path(self, step: int) -> Path:
        return self.samples / f"step_{step:07d}.png"

    @property
    def lock_file(self) -> Path:
        return self.root / ".lock"

    def has_run(self) -> bool:
        return self.last.exists() or self.metrics.exists()

    def has_checkpoint(self) -> bool:
        """Whether anything can be resumed or sampled: last, best or a kept checkpoint."""
        return self.last.exists() or self.best.exists() or bool(self.snapshots())

    def is_own(self, entry: Path) -> bool:
        """Whether ``entry`` (a path in the folder) is one gannet writes in a run folder."""
        name = entry.name
        return (name in RUN_ENTRIES or (name.startswith("eval_") and name.endswith(".json"))
                or (name.startswith(".") and name.endswith(".tmp")))

    def foreign_entries(self) -> list[str]:
        """Names in the folder that are not a run's own files (a user's files: never deleted)."""
        if not self.root.is_dir():
            return []
        ran = self.has_run()  # a config.yaml without a run's log or checkpoint is someone's own file
        return sorted(e.name for e in self.root.iterdir()
                      if not self.is_own(e) or (e.name == self.config.name and not ran))

    def clear(self) -> None:
        """Delete the run's own files and folders, and nothing else (``--overwrite``, or a restart before
        the first checkpoint); the caller holds the lock, so no other process is writing here."""
        for entry in self.root.iterdir():
            if not self.is_own(entry) or entry.name == self.lock_file.name:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()


class RunFolderBusy(RuntimeError):
    """Another live process holds a run folder's lock."""


class RunLock:
    """One process at a time trains in a run folder.

    The lock is an advisory ``flock`` on ``<run>/.lock``, which also records the holder's pid, host and
    start time for the message another process gets. The kernel drops a ``flock`` when its process
    ends, however it ends, so a lock left by a killed process never blocks a resume: the file may stay,
    but nobody holds it."""

    def __init__(self, run: RunDir):
        self.run = run
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        path = self.run.lock_file
        try:
            self.run.root.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise OSError(err.errno, f"cannot create the run folder ({err.strerror})", str(self.run.root)) from None
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise OSError(err.errno, f"cannot create its lock file {path.name} ({err.strerror})", str(path)) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 512, 0).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            raise RunFolderBusy(
                f"{self.run.root} is in use: {holder} is training there. Wait for it to finish or stop it "
                f"(Ctrl-C keeps its checkpoint), or choose another --out"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"process {os.getpid()} on {socket.gethostname()} (since "
                      f"{time.strftime('%Y-%m-%d %H:%M:%S')})\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def read_metrics(path: Path) -> list[dict[str, Any]]:
    """Every complete record of a metrics.jsonl (a half-written last line from a killed run is skipped)."""
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


class MetricsLog:
    """Appends JSON records to metrics.jsonl and mirrors the numbers to TensorBoard."""

    def __init__(self, run: RunDir, resume_step: int | None, tensorboard: bool):
        self.path = run.metrics
        if resume_step is None:
            atomic_write_text(self.path, "")
        else:  # drop what a killed run logged after its last checkpoint
            kept = [r for r in read_metrics(self.path) if r.get("step", 0) <= resume_step]
            atomic_write_text(self.path, "".join(json.dumps(r) + "\n" for r in kept))
        self.file = open(self.path, "a", encoding="utf-8")
        self.writer = None
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            purge = None if resume_step is None else resume_step + 1
            self.writer = SummaryWriter(log_dir=str(run.tensorboard), purge_step=purge)

    def write(self, record: dict[str, Any]) -> None:
        self.file.write(json.dumps(record) + "\n")
        self.file.flush()
        if self.writer is not None:
            step = record["step"]
            for key, value in record.items():
                if key not in ("step", "epoch") and isinstance(value, (int, float)) and not isinstance(value, bool):
                    self.writer.add_scalar(key, value, step)

    def add_image(self, tag: str, array, step: int) -> None:
        if self.writer is not None:
            self.writer.add_image(tag, array, step, dataformats="HW" if array.ndim == 2 else "HWC")

    def close(self) -> None:
        self.file.close()
        if self.writer is not None:
            self.writer.close()
