"""Checkpoints: written atomically, read without unpickling arbitrary objects.

A checkpoint is a plain dict of tensors, numbers, strings, lists and dicts, saved with
:func:`torch.save` and loaded with ``torch.load(..., weights_only=True)``. A file that carries any
other pickled object is refused before anything in it can run.
"""

from __future__ import annotations

import os
import pickle
import struct
import zipfile
from pathlib import Path
from typing import Any

import torch

from gannet.config import cut_text, short_repr
from gannet.io import atomic_write, atomic_write_bytes, to_bytes

FORMAT = "gannet-checkpoint"
VERSION = 1


# Set by load_checkpoint on the dict it returns (never saved): the file, for messages about its contents.
LOADED_FROM = "loaded_from"
# What every checkpoint holds, full or generator-only: enough to rebuild and sample G.
REQUIRED_KEYS = ("step", "config", "data_shape", "data_kind", "generator")


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message names the file."""


def save_checkpoint(state: dict[str, Any], path: str | os.PathLike, *copies: str | os.PathLike) -> None:
    """Write ``state`` atomically to ``path`` (and to each of ``copies``, serialised only once).

    A write that fails (a full disk, a folder that is not writable) raises :class:`CheckpointError`
    naming the file and the cause; the file that was there before is left as it was."""
    state = {"format": FORMAT, "version": VERSION, **state}
    state.pop(LOADED_FROM, None)
    target = Path(path)
    try:
        if not copies:
            atomic_write(target, lambda f: torch.save(state, f))
            return
        data = to_bytes(lambda f: torch.save(state, f))
        for target in (Path(path), *map(Path, copies)):
            atomic_write_bytes(target, data)
    except (OSError, RuntimeError) as err:
        cause = _os_error_in(err)
        if cause is None:
            raise
        kept = "the previous checkpoint there is kept" if target.exists() else "no checkpoint was there before"
        raise CheckpointError(f"{target}: could not write the checkpoint: {cause.strerror or cause}; {kept}") from None


def _os_error_in(err: BaseException) -> OSError | None:
    """The file-system error behind ``err``: itself, or the one PyTorch's C++ writer reports as a
    RuntimeError ("enforce fail at inline_container.cc") with the Python error as its context."""
    while err is not None:
        if isinstance(err, OSError):
            return err
        err = err.__cause__ or err.__context__
    return None


def one_line(err: BaseException, limit: int = 400) -> str:
    """An exception's message on one line, cut to ``limit`` characters, for an ``error:`` line."""
    return cut_text(" ".join(str(err).split()), limit) or type(err).__name__


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu",
                    required: tuple[str, ...] = REQUIRED_KEYS) -> dict[str, Any]:
    """The state saved in ``path``, checked to be a gannet checkpoint holding the ``required`` keys (by
    default what every training or generator-only checkpoint holds)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(
            f"{path}: refused to load: the file holds pickled objects other than tensors and plain "
            f"containers, which could run arbitrary code. Only gannet checkpoints are accepted. ({first_line})"
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError, KeyError, IndexError, TypeError,
            AttributeError, struct.error) as err:  # what the weights-only unpickler raises on text or garbage
        raise CheckpointError(f"{path}: not a readable checkpoint (truncated, corrupt, or not a checkpoint at "
                              f"all): {one_line(err, 300)}") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a gannet checkpoint (no '{FORMAT}' marker)")
    if state.get("version") != VERSION:
        raise CheckpointError(f"{path}: checkpoint version {state.get('version')} is not supported (expected {VERSION})")
    missing = [key for key in required if key not in state]
    if missing:
        raise CheckpointError(f"{path}: a gannet checkpoint must hold {', '.join(required)}; this one lacks "
                              f"{', '.join(missing)}")
    wrong = [key for key in ("config", "generator") if key in required and not isinstance(state[key], dict)]
    if wrong:
        raise CheckpointError(f"{path}: its {' and '.join(wrong)} must be a mapping")
    shape = state.get("data_shape") if "data_shape" in required else [1]
    if not isinstance(shape, list | tuple) or not all(isinstance(n, int) and n > 0 for n in shape):
        raise CheckpointError(f"{path}: data_shape {short_repr(shape)} is not a list of sizes")
    state[LOADED_FROM] = str(path)
    return state


def source_of(state: dict[str, Any]) -> str:
    """The file a state was loaded from, for messages ("checkpoint" for a state built in memory)."""
    return state.get(LOADED_FROM) or "checkpoint"


def load_weights(module: torch.nn.Module, weights: Any, what: str, state: dict[str, Any]) -> None:
    """``module.load_state_dict(weights)`` (strict), with a :class:`CheckpointError` naming the file and
    the network when the weights do not fit the network the checkpoint's own config builds."""
    try:
        module.load_state_dict(weights)
    except (RuntimeError, TypeError, AttributeError, KeyError) as err:
        raise CheckpointError(f"{source_of(state)}: the {what} weights do not fit the network its config describes "
                              f"({one_line(err)})") from None


GENERATORS = ("auto", "average", "raw")


def with_generator(state: dict[str, Any], which: str = "auto", where: str = "checkpoint") -> dict[str, Any]:
    """``state`` with the G that sampling and evaluation will use (they take ``generator_ema`` when present).

    ``auto``: the moving average of G when the run kept one (``train.ema``), else G itself; ``average``:
    the moving average, an error if there is none; ``raw``: G's own weights, the last iterate of the game."""
    if which not in GENERATORS:
        raise ValueError(f"generator must be one of {', '.join(GENERATORS)}, got {which!r}")
    if state.get("averaged"):  # gannet average, or export --generator average: G's place holds an average
        if which == "raw":
            raise CheckpointError(f"{where}: holds only an average of G's weights (written by gannet average or "
                                  f"gannet export --generator average); G's own weights are in the run's checkpoints")
        return state
    if which == "raw":
        return {**state, "generator_ema": None}
    if which == "average" and state.get("generator_ema") is None:
        raise CheckpointError(f"{where}: holds no moving average of G (the run had train.ema off at step "
                              f"{state.get('step')}); use the raw generator")
    return state


GENERATOR_KEYS = ("step", "config", "source", "data_shape", "data_kind", "generator", "generator_ema", "averaged",
                  "average_of", "best_valid", "stored_as")


def as_average(state: dict[str, Any], weights: dict[str, Any], average_of: list[int] | None = None) -> dict[str, Any]:
    """A generator-only state whose G is an average of the run's G: ``weights`` in G's place, marked
    ``averaged``, and ``average_of`` (the kept steps) for a uniform average over checkpoints. Readers
    then use it like any G, and every score's protocol says what was averaged."""
    out = generator_only({**state, "generator": weights, "generator_ema": None})
    out.pop("best_valid", None)  # the monitor's value belonged to the raw run, not to this average
    out["averaged"] = True
    if average_of is not None:
        out["average_of"] = sorted(average_of)
    return out


def generator_only(state: dict[str, Any], discriminator: bool = False, half: bool = False) -> dict[str, Any]:
    """The part of a training checkpoint needed to sample from and evaluate G (not to resume training):
    about a third of the file for the paper's MNIST model. ``gannet sample``, ``eval`` and ``figures``
    accept it like a full checkpoint.

    ``discriminator`` also keeps D's weights (not its optimiser): InfoGAN's Q is part of D, and
    ``gannet eval --metric codes`` reads the codes with it. ``half`` stores the floating-point weights
    as float16, half the file; they are loaded back into float32 networks (``load_state_dict`` casts),
    so the file is a rounded copy of the trained weights, and scores of it are scores of that copy.

    The file is meant to travel, so the config's ``data.root`` (a folder of this machine) is dropped:
    wherever the file is used, the dataset is found through ``$GANNET_DATA`` or ``--data-root``."""
    kept = {k: state[k] for k in GENERATOR_KEYS if k in state}
    kept["config"] = {**state["config"], "data": {**state["config"]["data"], "root": None}}
    for key in ("generator", "generator_ema") + (("discriminator",) if discriminator else ()):
        if state.get(key) is not None:
            kept[key] = {k: _stored(v, half) for k, v in state[key].items()}
    kept["contents"] = "generator and discriminator" if discriminator else "generator"
    if half:
        kept["stored_as"] = "float16"
    return kept


def is_generator_only(state: dict[str, Any]) -> bool:
    """Whether ``state`` is a file :func:`generator_only` wrote (``gannet export``): it samples and
    evaluates, but lacks the optimisers and random state that resuming training needs."""
    return str(state.get("contents", "")).startswith("generator")


def _stored(tensor: torch.Tensor, half: bool) -> torch.Tensor:
    tensor = tensor.detach().cpu()
    return (tensor.half() if half and tensor.is_floating_point() else tensor).contiguous()
