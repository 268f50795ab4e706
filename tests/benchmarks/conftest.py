"""Helpers for the benchmark smoke tests: each script's ``main`` run in-process at its smallest settings."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
# overrides that make a toy-*-pacgan run of a few seconds, unpacked: what the probes' smoke tests read
TINY_TOY_RUN = {"train.steps": 20, "train.batch_size": 32, "generator.hidden": [16, 16], "discriminator.hidden": [8, 8],
                "discriminator.pieces": 2, "discriminator.pack": 1, "discriminator.pack_shared_layers": 0,
                "monitor.enabled": False}


def load_benchmark(name: str):
    """The module ``benchmarks/<name>.py`` (the folder is not a package). The folder goes on the import
    path, as it is for ``python benchmarks/<name>.py``, so scripts can share their siblings' helpers."""
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def in_tmp(tmp_path, monkeypatch) -> Path:
    """Run in a fresh folder, so that a script's default output folders land there."""
    monkeypatch.chdir(tmp_path)
    return tmp_path
