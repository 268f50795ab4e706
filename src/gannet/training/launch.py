"""Starting, continuing and replacing a run: the run folder's checks, its lock, the resume rules.

:func:`train` is what ``gannet train`` and :func:`gannet.train` both do. It refuses a folder that
cannot hold the run or already holds another one, takes the folder's lock (one training process per
folder), builds the config (a fresh one, or the run's saved config with the overrides that may
change on resume, :data:`RESUMABLE_KEYS`), and runs the :class:`~gannet.training.trainer.Trainer`.
Every refusal is a :class:`~gannet.errors.UsageError`, :class:`~gannet.config.ConfigError`,
:class:`~gannet.data.DataError` or :class:`~gannet.checkpoint.CheckpointError` naming the folder,
file or key at fault, raised before anything is written.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

from gannet import distributed
from gannet.config import (
    Config,
    Override,
    apply_overrides,
    flatten,
    load_config,
    override_key,
    override_text,
    short_repr,
    validate,
)
from gannet.errors import UsageError
from gannet.training.run_dir import RunDir
from gannet.training.trainer import TrainingDiverged, TrainingInterrupted

# Keys that may change when a run is resumed: they do not change what is trained. ``train.ema`` is among
# them because the average only watches G: turned on at a resume, it starts from the current G.
RESUMABLE_KEYS = {
    "description", "device", "data.root", "train.steps", "train.ema", "train.log_every", "train.sample_every",
    "train.checkpoint_every", "train.keep_checkpoints", "train.progress", "train.tensorboard", "monitor.every",
    "monitor.metrics", "monitor.metrics_every", "monitor.metrics_samples",
}

# What a full checkpoint must hold to resume training (gannet.training.trainer.Trainer._state).
RESUME_STATE_KEYS = ("step", "config", "device_type", "data_shape", "data_kind", "generator", "discriminator",
                     "opt_g", "opt_d", "rng", "batches", "tracker", "best_valid")

ConfigSource = str | os.PathLike | dict[str, Any]


class StoppedAtOnce(KeyboardInterrupt):
    """A second Ctrl-C during training: it stopped at once, without writing a new checkpoint."""


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


def config_label(config: ConfigSource) -> str:
    """How a run names the config it was started from: the recipe name or file, or ``config dict``."""
    return "config dict" if isinstance(config, dict) else os.fspath(config)


def train(config: ConfigSource, out: str | os.PathLike | None = None, overrides: list[Override] | None = None,
          resume: bool = False, overwrite: bool = False, log: Callable[[str], None] = _stderr) -> Path:
    """Train a run in ``out`` (default ``runs/<config>-<date>-<time>``) and return its folder.

    ``resume`` continues the run in ``out`` from its last checkpoint (its saved config, with the
    overrides of :data:`RESUMABLE_KEYS`); ``overwrite`` replaces a run there. ``log`` receives the
    progress lines (rank 0 only). Raises :class:`TrainingInterrupted` when Ctrl-C or SIGTERM stopped
    the run after a checkpoint, :class:`TrainingDiverged` when it became NaN, :class:`StoppedAtOnce`
    on a second Ctrl-C."""
    overrides = list(overrides or [])
    if resume and not out:
        raise UsageError("--resume needs --out DIR, the run folder to continue")
    if resume and overwrite:
        raise UsageError("--resume continues the run in --out and --overwrite replaces it: give one of them")
    if out:
        check_run_folder(Path(out))
    restart = False
    if resume:
        run = RunDir(Path(out))
        cfg, restart = resume_config(run, config, overrides)
    else:
        cfg = load_config(config, overrides)
    world = distributed.setup(cfg.device)  # one process, or the ranks torchrun started
    try:
        if not resume:  # rank 0's default folder name for all
            stem = "run" if isinstance(config, dict) else Path(config).stem
            folder = out or f"runs/{stem}-{time.strftime('%Y%m%d-%H%M%S')}"
            run = RunDir(Path(distributed.broadcast_text(str(folder))))
        with owning(run, world):  # rank 0 holds the folder's lock; every rank checks before any writes
            if not resume:
                _check_fresh_folder(run, overwrite)
            distributed.barrier()
            _run(cfg, run, config, world, resume=resume and not restart, clear=overwrite or restart,
                 restart=restart, log=log if world.is_main else (lambda message: None))
            return run.root
    finally:
        distributed.teardown()


def _check_fresh_folder(run: RunDir, overwrite: bool) -> None:
    if run.has_run() and not overwrite:
        raise UsageError(_occupied_message(run))
    foreign = run.foreign_entries()
    if run.config.name in foreign:
        raise UsageError(f"--out {run.root}: the folder holds a {run.config.name} that is not a gannet run's, "
                         f"which the run would replace; choose a new or empty folder")
    if foreign and not overwrite:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise UsageError(f"--out {run.root}: the folder holds files that are not a gannet run ({shown}); "
                         f"choose a new or empty folder, or give --overwrite to train there beside them "
                         f"(only a run's own files are ever replaced)")


def check_run_folder(out: Path) -> None:
    """Refuse an --out that cannot be a run folder, before anything is written: an existing file, a path
    below a file, or a folder whose nearest existing parent cannot be written."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: is an existing file, not a run folder")
    if (blocker := file_above(out)) is not None:
        raise UsageError(f"--out {out}: {blocker} is a file, so no folder can be made below it")
    if out.exists():
        if not os.access(out, os.W_OK | os.X_OK):
            raise UsageError(f"--out {out}: the run folder is not writable")
    elif (existing := next((p for p in out.parents if p.exists()), None)) is not None \
            and not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"--out {out}: cannot create the run folder: {existing} is not writable")


def file_above(path: Path) -> Path | None:
    """The nearest existing parent of ``path`` when it is a file, so that nothing can be made below it."""
    existing = next((p for p in path.parents if p.exists()), None)
    return existing if existing is not None and not existing.is_dir() else None


@contextlib.contextmanager
def owning(run: RunDir, world):
    """Rank 0 holds the run folder's lock for the block (see :class:`gannet.training.run_dir.RunLock`);
    every rank leaves with the same error when it cannot. A folder made only to hold the lock is
    removed again if the block fails before writing anything else (a config or data error)."""
    from gannet.training.run_dir import RunFolderBusy, RunLock

    lock, busy = RunLock(run), None
    created = not run.root.exists()
    if world.is_main:
        try:
            lock.acquire()
        except (RunFolderBusy, OSError) as err:
            busy = err
    if distributed.any_rank(busy is not None):
        lock.release()
        if isinstance(busy, OSError):
            raise UsageError(f"--out {run.root}: {busy.strerror}") from None
        raise UsageError(str(busy) if busy else f"{run.root}: rank 0 could not take the run folder's lock")
    try:
        yield
    except BaseException:
        if world.is_main and created and [p.name for p in run.root.iterdir()] == [run.lock_file.name]:
            run.lock_file.unlink()
            run.root.rmdir()
        raise
    finally:
        lock.release()


def _occupied_message(run: RunDir) -> str:
    if not run.has_checkpoint():
        return (f"{run.root} holds a run that stopped before its first checkpoint, so there is nothing to resume: "
                f"restart it from step 0 with --resume (its saved config), replace it with --overwrite, or choose "
                f"another --out")
    return (f"{run.root} already holds a run; continue it with --resume, replace it with --overwrite, "
            f"or choose another --out")


def resume_config(run: RunDir, config: ConfigSource, overrides: list[Override]) -> tuple[Config, bool]:
    """The run's saved config, with the overrides of keys that may change on resume, and whether the run
    restarts from step 0 (it stopped before its first checkpoint).

    ``config`` itself must be the run's own: the name or file it was started from, its saved config.yaml,
    or any config that agrees with it on every key that changes what is trained. An override that
    repeats the run's own value (the command the run was started with, plus ``--resume``) is accepted."""
    from gannet.checkpoint import CheckpointError, is_generator_only, load_checkpoint

    if not run.last.exists():
        checkpoints = run.last.parent
        never_checkpointed = not checkpoints.exists() or (checkpoints.is_dir() and not any(checkpoints.iterdir()))
        if run.config.exists() and never_checkpointed:  # killed before its first checkpoint: restart
            saved = load_config(str(run.config))
            return _with_resume_overrides(saved, run, config, overrides, f"{run.config}", None), True
        what = "no run" if not run.has_run() else "no last checkpoint"
        raise UsageError(f"{run.root}: {what} to resume (expected {run.last})")
    state = load_checkpoint(run.last)
    if is_generator_only(state):
        raise CheckpointError(f"{run.last}: a generator-only checkpoint (gannet export) cannot resume training")
    missing = [k for k in RESUME_STATE_KEYS if k not in state]
    if missing:
        raise CheckpointError(f"{run.last}: cannot resume training: the checkpoint lacks {', '.join(missing)}")
    saved = validate(state["config"], f"config saved in {run.last}")
    cfg = _with_resume_overrides(saved, run, config, overrides, str(run.root), state.get("source"))
    if cfg.train.steps <= state["step"]:
        raise UsageError(f"the run is at step {state['step']} and train.steps={cfg.train.steps}: nothing to do; give a "
                         f"larger train.steps to extend it")
    return cfg, False


def _with_resume_overrides(saved: Config, run: RunDir, config: ConfigSource, overrides: list[Override], where: str,
                           source: str | None) -> Config:
    """``saved`` with ``overrides`` applied; an override that changes what is trained is refused, one that
    gives a key the run's own value is not. ``config`` must agree with ``saved`` too."""
    kept = flatten(saved.to_dict())

    def trained_keys_changed(cfg: Config) -> list[str]:
        now = flatten(cfg.to_dict())
        return [k for k in kept if now.get(k) != kept[k] and k not in RESUMABLE_KEYS]

    fixed = []
    for override in overrides:
        alone = validate(apply_overrides(saved.to_dict(), [override]),
                         f"config of {where} with {override_text(override)}")
        if trained_keys_changed(alone):
            fixed.append(override_key(override))
    if fixed:
        raise UsageError(
            f"cannot change {', '.join(fixed)} when resuming: it changes what is trained. Keys that may change: "
            f"{', '.join(sorted(RESUMABLE_KEYS))}"
        )
    cfg = validate(apply_overrides(saved.to_dict(), overrides), f"config of {where} with overrides")
    label = config_label(config)
    same_source = not isinstance(config, dict) and (
        label == source or Path(label).resolve() == run.config.resolve())
    if not same_source:
        given = flatten(load_config(config, overrides).to_dict())
        changed = [k for k in kept if given.get(k) != kept[k] and k not in RESUMABLE_KEYS]
        if changed:
            lines = "\n  ".join(f"{k}: run has {short_repr(kept[k], 80)}, {label} has {short_repr(given.get(k), 80)}"
                                for k in changed)
            raise UsageError(
                f"{label} is not the config of the run in {run.root}; they differ in keys that change "
                f"what is trained:\n  {lines}\nResume with: gannet train {run.config} --out {run.root} --resume"
            )
    return cfg


def _run(cfg: Config, run: RunDir, config: ConfigSource, world, resume: bool, clear: bool, restart: bool,
         log: Callable[[str], None]) -> dict:
    """Build the trainer (it checks data, device and sizes before anything is written), prepare the
    folder, train; return the last logged record."""
    from gannet.training.trainer import Trainer

    label = config_label(config)
    trainer = Trainer(cfg, run.root, resume=resume, source="" if isinstance(config, dict) else label)
    if world.is_main:
        if clear:
            run.clear()  # under the folder's lock: no other process writes here
        if restart:
            log(f"gannet: {run.root} stopped before its first checkpoint; restarting it from step 0 with its saved "
                f"config")
        run.root.mkdir(parents=True, exist_ok=True)
        for stale in run.root.rglob(".*.tmp"):  # temporary files of a process killed mid-write
            stale.unlink()
    distributed.barrier()
    if trainer.resume_note:
        log(f"gannet: {trainer.resume_note}")
    start = trainer.step
    ranks = (f" x {world.size} processes (global batch {cfg.train.batch_size * world.size})"
             if world.distributed else "")
    log(f"gannet: training '{label}' on {trainer.data.name} ({len(trainer.data.train)} examples) "
        f"on {trainer.device}{ranks} in {trainer.precision}, steps {start}..{cfg.train.steps}; run folder {run.root}")
    resume_hint = f"resume with: gannet train {run.config} --out {run.root} --resume"
    try:
        record = trainer.run()
    except TrainingInterrupted as err:
        distributed.barrier()  # every rank stopped at the same step: leave together, none killed mid-write
        raise TrainingInterrupted(f"{err}\n{resume_hint}") from None
    except TrainingDiverged:
        distributed.barrier()
        raise
    except KeyboardInterrupt:  # a second Ctrl-C: stop now, without waiting for the step's checkpoint
        kept = (f"the last checkpoint, {run.last}, is kept" if run.last.exists()
                else "no checkpoint had been written yet")
        raise StoppedAtOnce(f"interrupted again at step {trainer.step}: stopped at once, without a new checkpoint; "
                            f"{kept}.\n{resume_hint}") from None
    distributed.barrier()
    summary = ", ".join(f"{k}={record[k]:.4g}" for k in ("d_loss", "g_loss", "d_real", "d_fake") if k in record)
    log(f"gannet: done at step {trainer.step} ({summary}).\n"
        f"  samples:     {run.samples}/\n  metrics:     {run.metrics}\n"
        f"  checkpoints: {run.last.parent}/\n  sample more: gannet sample {run.root} -n 64 --out samples.png")
    return record
