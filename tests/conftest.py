"""Shared fixtures: small IDX datasets written by the tests, the real data folder, tiny configs."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from gannet.data.idx import write_idx
from gannet.data.mnist import FILES


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch, tmp_path):
    """Quiet matplotlib, and a classifier cache of the test's own: a classifier a test trains on a few
    fake images must never land in the user's ~/.cache/gannet, where real evaluations would use it."""
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / ".mpl"))
    monkeypatch.setenv("GANNET_CACHE", str(tmp_path / "gannet-cache"))


def write_fake_mnist(root: Path, n_train: int = 300, n_test: int = 50, seed: int = 0) -> Path:
    """A tiny MNIST-shaped dataset in the standard file layout (gzip IDX)."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", n_train), ("test", n_test)):
        write_idx(root / f"{FILES[split + '_images']}.gz", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(root / f"{FILES[split + '_labels']}.gz", rng.integers(0, 10, (n,), dtype=np.uint8))
    return root


@pytest.fixture
def fake_mnist(tmp_path) -> Path:
    return write_fake_mnist(tmp_path / "mnist")


def real_data_root() -> Path | None:
    base = os.environ.get("GANNET_DATA")
    if base and (Path(base) / "mnist" / "train-images-idx3-ubyte.gz").exists():
        return Path(base)
    return None


requires_real_mnist = pytest.mark.skipif(
    real_data_root() is None, reason="set GANNET_DATA to a folder with mnist/ (make test sets ../shared/data)"
)
