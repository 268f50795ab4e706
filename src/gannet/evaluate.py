"""``gannet eval``: score a trained generator with a stated protocol, and write both to the run folder."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from gannet.checkpoint import load_checkpoint
from gannet.config import Config
from gannet.data import DataError, load_dataset
from gannet.io import atomic_write_text
from gannet.metrics import parzen
from gannet.train.trainer import generated_samples


def run_folder_of(checkpoint: Path) -> Path:
    """The run folder a checkpoint belongs to (``<run>/checkpoints/x.pt``), else the file's folder."""
    return checkpoint.parent.parent if checkpoint.parent.name == "checkpoints" else checkpoint.parent


def parzen_eval(checkpoint: Path, n_samples: int = 10_000, n_valid: int = 1_000, split: str = "test",
                seed: int = 0, data_root: str | None = None, sigmas=None, device: str = "cpu") -> dict:
    """The authors' Parzen protocol on the generator of ``checkpoint``; returns the JSON-ready record."""
    state = load_checkpoint(checkpoint)
    cfg = Config.model_validate(state["config"])
    if data_root:
        cfg.data.root = data_root
    data = load_dataset(cfg.data, cfg.seed)
    if data.valid is None:
        raise DataError(f"'{data.name}' has no validation split to choose sigma on (set data.valid_size)")
    scored = data.test if split == "test" else data.valid
    n_train = len(data.train)
    if scored is None:
        raise DataError(f"'{data.name}' has no test split; use --split valid (sigma is then chosen on the first "
                        f"{n_valid} validation examples and all of them are scored: an optimistic estimate)")
    started = time.perf_counter()
    samples = generated_samples(state, n_samples, seed=seed, device=device)
    result = parzen.evaluate(samples, data.valid[:n_valid], scored, sigmas)
    result.protocol = {
        "metric": "parzen",
        "checkpoint": str(checkpoint),
        "step": int(state["step"]),
        "dataset": data.name,
        "generator": "raw G (no weight averaging), noise prior " + cfg.noise.prior,
        "n_samples": n_samples,
        "sample_seed": seed,
        "sigma_grid": result.sigmas,
        "sigma_chosen_on": f"the first {min(n_valid, len(data.valid))} validation examples",
        "scored": f"all {len(scored)} {split} examples",
        "splits": {"train": [0, n_train], "valid": [n_train, n_train + len(data.valid)],
                   "valid_size": len(data.valid), "valid_used": min(n_valid, len(data.valid)),
                   "test": "the dataset's test file" if data.test is not None else None},
        "standard_error": "std (ddof 0) / sqrt(n) across scored examples",
        "reference": "Goodfellow et al. 2014, Table 1; paper-spec section 3",
        "seconds": round(time.perf_counter() - started, 2),
    }
    return result.to_dict()


def write_record(record: dict, run: Path, name: str) -> Path:
    path = run / f"eval_{name}.json"
    atomic_write_text(path, json.dumps(record, indent=2, default=_plain) + "\n")
    return path


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
