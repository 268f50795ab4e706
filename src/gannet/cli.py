"""The ``gannet`` command: train, sample, recipes, data download."""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from gannet import distributed
from gannet.config import (
    ConfigError,
    apply_overrides,
    flatten,
    load_config,
    read_config_source,
    recipe_names,
    short_repr,
    validate,
)

# Keys that may change when a run is resumed: they do not change what is trained. ``train.ema`` is among
# them because the average only watches G: turned on at a resume, it starts from the current G.
RESUMABLE_KEYS = {
    "description", "device", "data.root", "train.steps", "train.ema", "train.log_every", "train.sample_every",
    "train.checkpoint_every", "train.keep_checkpoints", "train.progress", "train.tensorboard", "monitor.every",
    "monitor.metrics", "monitor.metrics_every", "monitor.metrics_samples",
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = {"train": cmd_train, "sample": cmd_sample, "export": cmd_export, "average": cmd_average,
                "eval": cmd_eval, "figures": cmd_figures,
                "plot": cmd_plot, "theory": cmd_theory, "classifier": cmd_classifier, "recipes": cmd_recipes, "data": cmd_data}
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in commands:
        print(USAGE, file=sys.stderr if argv and argv[0] not in ("-h", "--help") else sys.stdout)
        if argv and argv[0] not in ("-h", "--help"):
            print(f"error: unknown command '{argv[0]}'", file=sys.stderr)
            return 2
        return 0 if argv else 2
    try:
        return _run_command(commands[argv[0]], argv)
    except KeyboardInterrupt:  # Ctrl-C outside training's own handler (start-up, sampling, evaluation)
        print(f"error: interrupted (Ctrl-C) during gannet {argv[0]}; files are written whole or not at all",
              file=sys.stderr)
        return 130


def _run_command(command, argv: list[str]) -> int:
    """``command(argv[1:])``, with every expected failure turned into one ``error: ...`` line."""
    from gannet.checkpoint import CheckpointError
    from gannet.data import DataError
    from gannet.data.download import DownloadError
    from gannet.features.classifier import ClassifierError
    from gannet.features.inception import InceptionWeightsError

    try:
        return command(argv[1:])
    except (ConfigError, DataError, CheckpointError, DownloadError, UsageError, ClassifierError,
            InceptionWeightsError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # the file system refused: a full disk, a folder without write permission, ...
        where = f"{err.filename}: " if err.filename else ""
        print(f"error: {where}{err.strerror or err}", file=sys.stderr)
        return 1
    except MemoryError:
        print("error: not enough memory for what was asked (a smaller batch, network or sample count may fit)",
              file=sys.stderr)
        return 1
    except RuntimeError as err:
        if "can't allocate memory" not in str(err):  # PyTorch's allocator reports memory as a RuntimeError
            raise
        print(f"error: not enough memory: {' '.join(str(err).split())[:300]} (a smaller batch, network or "
              f"sample count may fit)", file=sys.stderr)
        return 1


USAGE = """usage: gannet COMMAND ...

commands:
  train CONFIG [KEY=VALUE ...] [--out DIR] [--resume] [--overwrite]
                       train a GAN; CONFIG is a YAML file or a recipe name
  sample RUN_OR_CHECKPOINT -n N --out FILE
                       write N samples as a PNG grid (.png) or an array (.npy)
  export RUN_OR_CHECKPOINT --out FILE.pt
                       keep only what sampling and evaluation need (G and its config)
  average RUN --from STEP [--to STEP] --out FILE.pt
                       G's weights averaged over the run's kept checkpoints, as a generator-only file
  eval RUN_OR_CHECKPOINT --metric parzen|classifier|modes|codes|elbo|inception|all
                       the paper's Parzen protocol; sample quality, diversity and mode coverage
  classifier train|show mnist|fashion-mnist
                       the classifier behind the sample-quality metrics (trained once, cached)
  figures RUN --figure 1|2|3|codes --out FILE.png
                       the paper's Figures 1-3 from a run; an InfoGAN run's code traversals
  plot RUN             loss, D-output and validation curves from metrics.jsonl
  theory optimal-d     Proposition 1 as an experiment: learned D against D*
  recipes              list the bundled recipes
  data download mnist|fashion-mnist [--root DIR]
                       fetch the standard IDX files, verified

`gannet COMMAND --help` tells more."""


class UsageError(ValueError):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse with gannet's error format: the usage, then one line ``error: ...``, exit status 2."""

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(2, f"error: {self.prog}: {message}\n")


# ------------------------------------------------------------------------------------------------
# train


def cmd_train(argv: list[str]) -> int:
    parser = _Parser(prog="gannet train", description="Train a GAN.")
    parser.add_argument("config", help="YAML file or recipe name (see `gannet recipes`)")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="override a config key, e.g. train.steps=2000")
    parser.add_argument("--out", help="run folder (default: runs/<config>-<date>-<time>)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    parser.add_argument("--overwrite", action="store_true", help="delete an existing run in --out and start afresh")
    args = parser.parse_intermixed_args(argv)

    from gannet.training.run_dir import RunDir

    if args.resume and not args.out:
        raise UsageError("--resume needs --out DIR, the run folder to continue")
    if args.resume and args.overwrite:
        raise UsageError("--resume continues the run in --out and --overwrite replaces it: give one of them")
    if args.out:
        _check_run_folder(Path(args.out))
    restart = False
    if args.resume:
        run = RunDir(Path(args.out))
        cfg, restart = _resume_config(run, args)
    else:
        cfg = load_config(args.config, args.overrides)
    world = distributed.setup(cfg.device)  # one process, or the ranks torchrun started
    try:
        if not args.resume:  # rank 0's default folder name for all
            out = args.out or f"runs/{Path(args.config).stem}-{time.strftime('%Y%m%d-%H%M%S')}"
            run = RunDir(Path(distributed.broadcast_text(out)))
        with _owning(run, world):  # rank 0 holds the folder's lock; every rank checks before any writes
            if not args.resume and run.has_run() and not args.overwrite:
                raise UsageError(_occupied_message(run))
            foreign = run.foreign_entries()
            if not args.resume and run.config.name in foreign:
                raise UsageError(f"--out {run.root}: the folder holds a {run.config.name} that is not a gannet run's, "
                                 f"which the run would replace; choose a new or empty folder")
            if not args.resume and foreign and not args.overwrite:
                shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
                raise UsageError(f"--out {run.root}: the folder holds files that are not a gannet run ({shown}); "
                                 f"choose a new or empty folder, or give --overwrite to train there beside them "
                                 f"(only a run's own files are ever replaced)")
            distributed.barrier()
            return _train(cfg, run, args, world, restart)
    finally:
        distributed.teardown()


def _check_run_folder(out: Path) -> None:
    """Refuse an --out that cannot be a run folder, before anything is written: an existing file, a path
    below a file, or a folder whose nearest existing parent cannot be written."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: is an existing file, not a run folder")
    if (blocker := _file_above(out)) is not None:
        raise UsageError(f"--out {out}: {blocker} is a file, so no folder can be made below it")
    if out.exists():
        if not os.access(out, os.W_OK | os.X_OK):
            raise UsageError(f"--out {out}: the run folder is not writable")
    elif (existing := next((p for p in out.parents if p.exists()), None)) is not None \
            and not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"--out {out}: cannot create the run folder: {existing} is not writable")


def _file_above(path: Path) -> Path | None:
    """The nearest existing parent of ``path`` when it is a file, so that nothing can be made below it."""
    existing = next((p for p in path.parents if p.exists()), None)
    return existing if existing is not None and not existing.is_dir() else None


@contextlib.contextmanager
def _owning(run, world):
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


def _occupied_message(run) -> str:
    if not run.has_checkpoint():
        return (f"{run.root} holds a run that stopped before its first checkpoint, so there is nothing to resume: "
                f"restart it from step 0 with --resume (its saved config), replace it with --overwrite, or choose "
                f"another --out")
    return (f"{run.root} already holds a run; continue it with --resume, replace it with --overwrite, "
            f"or choose another --out")


def _resume_config(run, args):
    """The run's saved config, with the command line's overrides of keys that may change on resume, and
    whether the run restarts from step 0 (it stopped before its first checkpoint).

    CONFIG itself must be the run's own: the name or file it was started from, its saved config.yaml,
    or any config that agrees with it on every key that changes what is trained. An override that
    repeats the run's own value (the command the run was started with, plus ``--resume``) is accepted."""
    from gannet.checkpoint import CheckpointError, is_generator_only, load_checkpoint

    if not run.last.exists():
        checkpoints = run.last.parent
        never_checkpointed = not checkpoints.exists() or (checkpoints.is_dir() and not any(checkpoints.iterdir()))
        if run.config.exists() and never_checkpointed:  # killed before its first checkpoint: restart
            saved = load_config(str(run.config))
            return _with_resume_overrides(saved, args, f"{run.config}", None), True
        what = "no run" if not run.has_run() else "no last checkpoint"
        raise UsageError(f"{run.root}: {what} to resume (expected {run.last})")
    state = load_checkpoint(run.last)
    if is_generator_only(state):
        raise CheckpointError(f"{run.last}: a generator-only checkpoint (gannet export) cannot resume training")
    missing = [k for k in RESUME_STATE_KEYS if k not in state]
    if missing:
        raise CheckpointError(f"{run.last}: cannot resume training: the checkpoint lacks {', '.join(missing)}")
    saved = validate(state["config"], f"config saved in {run.last}")
    cfg = _with_resume_overrides(saved, args, str(run.root), state.get("source"))
    if cfg.train.steps <= state["step"]:
        raise UsageError(f"the run is at step {state['step']} and train.steps={cfg.train.steps}: nothing to do; give a "
                         f"larger train.steps to extend it")
    return cfg, False


# What a full checkpoint must hold to resume training (gannet.training.trainer.Trainer._state).
RESUME_STATE_KEYS = ("step", "config", "device_type", "data_shape", "data_kind", "generator", "discriminator",
                     "opt_g", "opt_d", "rng", "batches", "tracker", "best_valid")


def _with_resume_overrides(saved, args, where: str, source: str | None):
    """``saved`` with the overrides of ``args`` applied; an override that changes what is trained is refused,
    one that gives a key the run's own value is not. ``args.config`` must agree with ``saved`` too."""
    from gannet.training.run_dir import RunDir

    run = RunDir(Path(args.out))
    kept = flatten(saved.to_dict())

    def trained_keys_changed(cfg) -> list[str]:
        now = flatten(cfg.to_dict())
        return [k for k in kept if now.get(k) != kept[k] and k not in RESUMABLE_KEYS]

    fixed = []
    for override in args.overrides:
        alone = validate(apply_overrides(saved.to_dict(), [override]), f"config of {where} with {override}")
        if trained_keys_changed(alone):
            fixed.append(override.split("=", 1)[0].strip())
    if fixed:
        raise UsageError(
            f"cannot change {', '.join(fixed)} when resuming: it changes what is trained. Keys that may change: "
            f"{', '.join(sorted(RESUMABLE_KEYS))}"
        )
    cfg = validate(apply_overrides(saved.to_dict(), args.overrides), f"config of {where} with overrides")
    same_source = args.config == source or Path(args.config).resolve() == run.config.resolve()
    if not same_source:
        given = flatten(load_config(args.config, args.overrides).to_dict())
        changed = [k for k in kept if given.get(k) != kept[k] and k not in RESUMABLE_KEYS]
        if changed:
            lines = "\n  ".join(f"{k}: run has {short_repr(kept[k], 80)}, {args.config} has {short_repr(given.get(k), 80)}"
                                for k in changed)
            raise UsageError(
                f"{args.config} is not the config of the run in {run.root}; they differ in keys that change "
                f"what is trained:\n  {lines}\nResume with: gannet train {run.config} --out {run.root} --resume"
            )
    return cfg


def _train(cfg, run, args, world, restart: bool = False) -> int:
    from gannet.training.trainer import Trainer, TrainingDiverged, TrainingInterrupted

    say = functools.partial(print, file=sys.stderr) if world.is_main else (lambda *a, **k: None)
    resume = args.resume and not restart
    trainer = Trainer(cfg, run.root, resume=resume, source=args.config)  # checks data, device, sizes
    if world.is_main:
        if (args.overwrite and not args.resume) or restart:
            run.clear()  # under the folder's lock: no other process writes here
        if restart:
            say(f"gannet: {run.root} stopped before its first checkpoint; restarting it from step 0 with its saved "
                f"config")
        run.root.mkdir(parents=True, exist_ok=True)
        for stale in run.root.rglob(".*.tmp"):  # temporary files of a process killed mid-write
            stale.unlink()
    distributed.barrier()
    if trainer.resume_note:
        say(f"gannet: {trainer.resume_note}")
    start = trainer.step
    ranks = (f" x {world.size} processes (global batch {cfg.train.batch_size * world.size})"
             if world.distributed else "")
    say(f"gannet: training '{args.config}' on {trainer.data.name} ({len(trainer.data.train)} examples) "
        f"on {trainer.device}{ranks} in {trainer.precision}, steps {start}..{cfg.train.steps}; run folder {run.root}")
    try:
        record = trainer.run()
    except TrainingInterrupted as err:
        say(f"gannet: {err}\nresume with: gannet train {run.config} --out {run.root} --resume")
        distributed.barrier()  # every rank stopped at the same step: leave together, none killed mid-write
        return 130
    except TrainingDiverged as err:
        say(f"error: {err}")
        distributed.barrier()
        return 1
    except KeyboardInterrupt:  # a second Ctrl-C: stop now, without waiting for the step's checkpoint
        kept = (f"the last checkpoint, {run.last}, is kept" if run.last.exists()
                else "no checkpoint had been written yet")
        say(f"error: interrupted again at step {trainer.step}: stopped at once, without a new checkpoint; {kept}.\n"
            f"resume with: gannet train {run.config} --out {run.root} --resume")
        return 130
    distributed.barrier()
    summary = ", ".join(f"{k}={record[k]:.4g}" for k in ("d_loss", "g_loss", "d_real", "d_fake") if k in record)
    say(f"gannet: done at step {trainer.step} ({summary}).\n"
        f"  samples:     {run.samples}/\n  metrics:     {run.metrics}\n"
        f"  checkpoints: {run.last.parent}/\n  sample more: gannet sample {run.root} -n 64 --out samples.png")
    return 0


# ------------------------------------------------------------------------------------------------
# sample


def cmd_sample(argv: list[str]) -> int:
    parser = _Parser(prog="gannet sample", description="Draw samples from a trained generator.")
    parser.add_argument("source", metavar="RUN_OR_CHECKPOINT", help="a run folder or a .pt checkpoint")
    parser.add_argument("-n", type=int, default=64, help="number of samples (default 64)")
    parser.add_argument("--out", required=True, help="output file: .png (grid or plot) or .npy (array)")
    parser.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    parser.add_argument("--checkpoint", choices=["best", "last"], help="which checkpoint of a run folder "
                        "(default: best by validation when the run has one, else last)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    _add_generator_option(parser)
    args = parser.parse_args(argv)
    if args.n <= 0:
        raise UsageError(f"-n must be a positive number of samples, got {args.n}")
    _check_seed(args.seed)
    _check_device(args.device)
    out = Path(args.out)
    if out.suffix not in (".png", ".npy"):
        raise UsageError(f"--out {out}: the file name must end in .png or .npy")
    if out.suffix == ".png" and args.n > MAX_GRID:
        raise UsageError(f"-n {args.n}: a PNG grid holds at most {MAX_GRID:,} samples; write an array (.npy) for more")
    _check_output_file(out)

    from gannet.images import save_image_grid, save_points_plot
    from gannet.io import atomic_path
    from gannet.training.trainer import iter_samples

    path = _checkpoint_path(Path(args.source), args.checkpoint)
    state = _load_with_generator(path, args.generator)
    shape = tuple(state["data_shape"])  # checked by load_checkpoint
    if out.suffix == ".npy":
        size = args.n * math.prod(shape) * 4
        free = shutil.disk_usage(out.resolve().parent).free
        if size > free:
            raise UsageError(f"-n {args.n}: the array would take {size / 2**30:.2f} GiB (float32, {shape} each) and "
                             f"{out.resolve().parent} has {free / 2**30:.2f} GiB free")
        with atomic_path(out) as tmp:  # written chunk by chunk: memory stays flat however large -n is
            array = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(args.n, *shape))
            done = 0
            for part in iter_samples(state, args.n, seed=args.seed, device=args.device):
                array[done: done + len(part)] = part
                done += len(part)
            array.flush()
            del array
    else:
        samples = np.concatenate(list(iter_samples(state, args.n, seed=args.seed, device=args.device)))
        if state["data_kind"] == "image":
            save_image_grid(samples, out, signed=_signed_images(state))
        else:
            save_points_plot(samples, out, title=f"{args.n} samples, step {state['step']}")
    print(f"gannet: wrote {args.n} samples to {out} from {path} (step {state['step']})", file=sys.stderr)
    return 0


MAX_GRID = 10_000  # samples in one PNG grid (100 x 100 images); more go to .npy


def _check_device(name: str) -> None:
    """``--device``: cpu, or cuda / cuda:N where PyTorch sees that GPU."""
    import torch

    try:
        device = torch.device(name)
    except RuntimeError:
        raise UsageError(f"--device {name}: expected cpu, cuda or cuda:N") from None
    if device.type not in ("cpu", "cuda"):
        raise UsageError(f"--device {name}: expected cpu, cuda or cuda:N")
    if device.type == "cuda" and (not torch.cuda.is_available()
                                  or (device.index or 0) >= torch.cuda.device_count()):
        raise UsageError(f"--device {name}: PyTorch sees no such CUDA device (use --device cpu)")


def _check_seed(seed: int) -> None:
    if not 0 <= seed < 2**63:
        raise UsageError(f"--seed {seed}: a seed is a non-negative integer below 2**63")


def _check_output_file(out: Path) -> None:
    """Refuse an output file that cannot be written, before any work: a folder, a path below a file, a
    folder that cannot be created or written."""
    if out.is_dir():
        raise UsageError(f"--out {out}: is a folder; give a file name")
    if (blocker := _file_above(out)) is not None:
        raise UsageError(f"--out {out}: {blocker} is a file, so nothing can be written below it")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)  # can we write here?
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise UsageError(f"--out {out}: cannot write in {out.parent} ({err.strerror})") from None


def cmd_export(argv: list[str]) -> int:
    parser = _Parser(prog="gannet export", description="Write a generator-only checkpoint: "
                                     "G's weights and config, enough for sample, eval and figures.")
    parser.add_argument("source", metavar="RUN_OR_CHECKPOINT")
    parser.add_argument("--out", required=True, help="output .pt file")
    parser.add_argument("--checkpoint", choices=["best", "last"], help="which checkpoint of a run folder "
                        "(default: best by validation when the run has one, else last)")
    _add_generator_option(parser)
    parser.add_argument("--with-discriminator", action="store_true", help="also keep D's weights (InfoGAN's Q is "
                        "part of D: gannet eval --metric codes needs them)")
    parser.add_argument("--half", action="store_true", help="store the weights as float16: half the file, a "
                        "rounded copy of the trained weights (loaded back as float32)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    if out.suffix != ".pt":
        raise UsageError(f"--out {out}: the file name must end in .pt")
    _check_output_file(out)

    from gannet.checkpoint import CheckpointError, as_average, generator_only, save_checkpoint

    path = _checkpoint_path(Path(args.source), args.checkpoint)
    if out.resolve() == path.resolve() or (out.parent.name == "checkpoints" and out.name in ("last.pt", "best.pt")):
        raise UsageError(f"--out {out}: would replace a run's own checkpoint; write the generator elsewhere")
    state = _load_with_generator(path, args.generator)
    if args.with_discriminator and state.get("discriminator") is None:
        raise CheckpointError(f"{path}: --with-discriminator: this file holds no discriminator weights")
    if args.generator == "average" and not state.get("averaged"):  # the average alone, in G's place: half the file
        state = {**as_average(state, state["generator_ema"]), "discriminator": state.get("discriminator")}
    out.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(generator_only(state, discriminator=args.with_discriminator, half=args.half), out)
    print(f"gannet: wrote G of {path} (step {state['step']}) to {out}, {out.stat().st_size / 2**20:.1f} MiB",
          file=sys.stderr)
    return 0


def cmd_average(argv: list[str]) -> int:
    parser = _Parser(prog="gannet average", description="Write the uniform average of G's weights "
                                     "over a run's kept checkpoints (train.keep_checkpoints) as a generator-only file.")
    parser.add_argument("run", metavar="RUN")
    parser.add_argument("--from", dest="first", type=int, required=True, help="the first step to include")
    parser.add_argument("--to", dest="last", type=int, help="the last step to include (default: all after --from)")
    parser.add_argument("--out", required=True, help="output .pt file")
    args = parser.parse_args(argv)
    out = Path(args.out)
    if out.suffix != ".pt":
        raise UsageError(f"--out {out}: the file name must end in .pt")
    _check_output_file(out)

    from gannet.averaging import average_generator, checkpoints_in_window
    from gannet.checkpoint import save_checkpoint
    from gannet.training.run_dir import RunDir

    run = RunDir(Path(args.run))
    kept = run.snapshots()
    if not kept:
        raise UsageError(f"{run.root}: no kept checkpoints (train with train.keep_checkpoints=true)")
    chosen = checkpoints_in_window(kept, args.first, args.last)
    if not chosen:
        raise UsageError(f"{run.root}: no kept checkpoint between steps {args.first} and {args.last or 'the end'} "
                         f"(kept: {kept[0].stem} to {kept[-1].stem})")
    state = average_generator(chosen)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(state, out)
    print(f"gannet: wrote the average of G over {len(chosen)} checkpoints (steps {state['average_of'][0]} to "
          f"{state['average_of'][-1]}) to {out}", file=sys.stderr)
    return 0


def _add_generator_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--generator", choices=["auto", "average", "raw"], default="auto",
                        help="which G: the moving average of its weights when the run kept one (train.ema), "
                        "else G itself (auto, the default); the average (an error without one); or G's own "
                        "weights, the last iterate (raw)")


def _load_with_generator(path: Path, which: str) -> dict:
    from gannet.checkpoint import load_checkpoint, with_generator

    return with_generator(load_checkpoint(path), which, str(path))


def _signed_images(state: dict) -> bool:
    """Whether a run's images are contrast-normalised (centred on 0) rather than in [0, 1]."""
    return state["config"]["data"].get("gcn") is not None


def _checkpoint_path(source: Path, which: str | None) -> Path:
    """The checkpoint a command reads: the file itself, or a run folder's best (when it has one) or last."""
    from gannet.training.run_dir import RunDir

    if source.is_dir():
        run = RunDir(source)
        if which == "best" and not run.best.exists():
            raise UsageError(f"{source}: the run has no best checkpoint (no validation estimate was made)")
        if which == "last" or (which is None and not run.best.exists()):
            return run.last
        return run.best
    if not source.exists():
        raise UsageError(f"{source}: no such run folder or checkpoint")
    return source


# ------------------------------------------------------------------------------------------------
# eval, figures, plot, theory


def cmd_eval(argv: list[str]) -> int:
    parser = _Parser(prog="gannet eval", description="Evaluate a trained generator.")
    parser.add_argument("source", metavar="RUN_OR_CHECKPOINT")
    parser.add_argument("--metric", choices=["parzen", "classifier", "modes", "codes", "elbo", "inception", "all"],
                        default="parzen",
                        help="parzen: the paper's Parzen protocol; classifier: FD, KD, precision/recall, "
                        "density/coverage, class coverage and classifier score on gannet's own classifier "
                        "(MNIST, Fashion-MNIST); modes: mode coverage and histogram JSD (2-D toys); codes: "
                        "InfoGAN's categorical code as a classifier of the test images, after the best "
                        "one-to-one matching to the classes; elbo: a VAE run's ELBO and importance-weighted bound (100 draws) "
                        "on log p(x); inception: "
                        "FID on Inception-v3 features (needs --inception-weights); all: every metric that applies "
                        "to the run's data (inception too when --inception-weights is given)")
    parser.add_argument("--inception-weights", metavar="FILE", help="the standard FID Inception-v3 weights "
                        "(pt_inception-2015-12-05-6726825d.pth), checked by SHA-256; never downloaded")
    parser.add_argument("--samples", type=int, help="samples from G (default 10,000; modes: 2,500)")
    parser.add_argument("--valid", type=int, default=1_000, help="validation examples for sigma (default 1,000)")
    parser.add_argument("--split", choices=["test", "valid"], default="test", help="examples scored")
    parser.add_argument("--seed", type=int, default=0, help="noise seed for the samples (default 0)")
    parser.add_argument("--checkpoint", choices=["best", "last"])
    parser.add_argument("--data-root", help="where the dataset files are, if not where the run found them")
    parser.add_argument("--device", default="cpu")
    _add_generator_option(parser)
    args = parser.parse_args(argv)
    if (args.samples is not None and args.samples <= 0) or args.valid <= 0:
        raise UsageError("--samples and --valid must be positive")
    _check_seed(args.seed)
    _check_device(args.device)

    path = _checkpoint_path(Path(args.source), args.checkpoint)
    metrics = [args.metric] if args.metric != "all" else _metrics_for(path, bool(args.inception_weights))
    if "inception" in metrics and not args.inception_weights:
        raise UsageError("--metric inception needs --inception-weights FILE (the standard FID Inception-v3 weights, "
                         "pt_inception-2015-12-05-6726825d.pth); gannet does not download them")
    world = distributed.setup(args.device)  # under torchrun, sampling and features are shared across ranks
    try:
        with distributed.shared_work():
            _evaluate(args, path, metrics, world)
    finally:
        distributed.teardown()
    return 0


def _evaluate(args, path: Path, metrics: list[str], world) -> None:
    from gannet.evaluation import (
        classifier_eval,
        codes_eval,
        elbo_eval,
        modes_eval,
        parzen_eval,
        run_folder_of,
        write_record,
    )

    say = print if world.is_main else (lambda *a, **k: None)
    for metric in metrics:
        if metric == "parzen":
            record = parzen_eval(path, args.samples or 10_000, args.valid, args.split, args.seed, args.data_root,
                                 device=args.device, generator=args.generator)
            if world.is_main:
                _print_parzen(record, args.split)
        elif metric == "inception":
            from gannet.evaluation import inception_eval

            record = inception_eval(path, Path(args.inception_weights), args.samples or 10_000, args.seed,
                                    args.data_root, args.device, generator=args.generator)
            say(f"Inception FID: {record['inception_fid']:.3f} ({record['protocol']['n_samples']} samples against "
                f"{record['protocol']['reference_set']})")
        elif metric == "classifier":
            record = classifier_eval(path, args.samples or 10_000, args.seed, args.data_root, args.device,
                                     generator=args.generator)
            if world.is_main:
                _print_classifier(record)
        elif metric == "elbo":
            record = elbo_eval(path, split=args.split, seed=args.seed, data_root=args.data_root, device=args.device)
            say(f"ELBO {record['elbo']:.2f} +- {record['elbo_se']:.2f}, importance-weighted bound (100 draws) "
                f"{record['iwae']:.2f} +- {record['iwae_se']:.2f} nats per image ({record['protocol']['scored']})")
        elif metric == "codes":
            record = codes_eval(path, args.split, args.data_root, args.device)
            say(f"categorical code as a classifier: {record['accuracy']:.2%} of {record['protocol']['scored']} "
                f"after matching codes to classes {record['matching']}")
        else:
            record = modes_eval(path, args.samples or 2_500, seed=args.seed, device=args.device,
                                generator=args.generator)
            kl = record["reverse_kl"]
            say(f"modes covered: {record['modes_covered_published']} of {record['modes']} with one high-quality "
                f"sample (VEEGAN, PacGAN), {record['modes_covered']} with 20; high-quality samples: "
                f"{record['high_quality_fraction']:.1%}; reverse KL " + ("n/a" if kl is None else f"{kl:.4f}") +
                f" nats; histogram JSD {record['histogram_jsd']:.4f} nats")
        if world.distributed:
            record["protocol"]["processes"] = world.size
        if world.is_main:
            suffix = "" if args.generator == "auto" or metric in ("codes", "elbo") else f"_{args.generator}"
            out = write_record(record, run_folder_of(path), f"{metric}_{path.stem}{suffix}")
            print(f"written to {out}", file=sys.stderr)


def _metrics_for(path: Path, inception: bool = False) -> list[str]:
    from gannet.checkpoint import load_checkpoint
    from gannet.data.toy import TOYS
    from gannet.features.classifier import DATASETS

    state = load_checkpoint(path)
    config = state["config"]
    name = config["data"]["name"]
    metrics = ["parzen"]
    if name in DATASETS:
        metrics.append("classifier")
        if config["noise"].get("categorical", 0) > 1 and "discriminator" in state:  # Q lives in D
            metrics.append("codes")
    if config["train"].get("update") == "vae" and state.get("encoder") is not None:
        metrics.append("elbo")
    if inception and name not in TOYS:
        metrics.append("inception")
    if name in TOYS and TOYS[name].dim == 2:
        metrics.append("modes")
    return metrics


def _print_parzen(record: dict, split: str) -> None:
    edge = " (at the edge of the grid)" if record["sigma_at_edge"] else ""
    print(f"Parzen log-likelihood: {record['mean']:.2f} +- {record['standard_error']:.2f} nats "
          f"(sigma {record['sigma']:.4g}{edge}; {record['n_samples']} samples, {record['n_test']} {split} "
          f"examples; step {record['protocol']['step']})")
    print("validation curve: " + ", ".join(f"{s:.3g}: {c:.1f}" for s, c in zip(record["sigmas"], record["valid_curve"])))


def _print_classifier(record: dict) -> None:
    rows = [("generated", record["generated"])]
    if "real_reference" in record:
        rows.append(("real (valid)", record["real_reference"]))
    print(f"classifier metrics ({record['protocol']['feature_network']}):")
    print(f"{'':14} {'FD':>8} {'KD':>9} {'prec':>6} {'recall':>6} {'density':>7} {'cover':>6} "
          f"{'classes':>7} {'class KL':>8} {'score':>6}")
    for name, m in rows:
        print(f"{name:14} {m['frechet_distance']:8.3f} {m['kernel_distance']['mean']:9.3f} {m['precision']:6.3f} "
              f"{m['recall']:6.3f} {m['density']:7.3f} {m['coverage']:6.3f} {m['classes_covered']:>4}/{m['classes']:<2} "
              f"{m['class_kl']:8.4f} {m['classifier_score']:6.3f}")


def cmd_figures(argv: list[str]) -> int:
    parser = _Parser(prog="gannet figures", description="The paper's Figures 1-3 from a run.")
    parser.add_argument("run", metavar="RUN")
    parser.add_argument("--figure", choices=["1", "2", "3", "codes"], required=True,
                        help="1-3: the paper's figures; codes: an InfoGAN run's code traversal (--code)")
    parser.add_argument("--code", type=int, default=0, help="codes: 0 = the categorical code (default), "
                        "j = the j-th continuous code")
    parser.add_argument("--out", required=True, help="output .png")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoint", choices=["best", "last"])
    parser.add_argument("--data-root", help="where the training images are (Figure 2)")
    _add_generator_option(parser)
    args = parser.parse_args(argv)
    out = Path(args.out)
    if out.suffix != ".png":
        raise UsageError(f"--out {out}: the figure is written as .png")
    _check_seed(args.seed)
    _check_output_file(out)

    from gannet.checkpoint import load_checkpoint
    from gannet.training.run_dir import RunDir

    run = RunDir(Path(args.run))
    if args.figure == "codes":
        from gannet.figures import save_code_traversal
        from gannet.models import networks_from_state

        state = _load_with_generator(_checkpoint_path(run.root, args.checkpoint), args.generator)
        cfg, G, _ = networks_from_state(state)
        if cfg.noise.categorical == 0 and cfg.noise.continuous == 0:
            raise UsageError(f"{run.root}: the run has no latent codes to traverse (see the infogan-mnist recipe)")
        try:
            save_code_traversal(G, cfg.noise, args.code, out, seed=args.seed, signed=_signed_images(state))
        except ValueError as err:
            raise UsageError(f"{run.root}: {err}") from None
        print(f"gannet: wrote the traversal of code {args.code} to {out}", file=sys.stderr)
        return 0
    args.figure = int(args.figure)
    if args.figure == 1:
        from gannet.toy_figure import choose_panels, save_figure_1

        try:
            states = [load_checkpoint(p) for p in choose_panels(run.snapshots())]
            summary = save_figure_1(states, out)
        except ValueError as err:
            raise UsageError(f"{run.root}: {err}") from None
        print("; ".join(f"step {p['step']}: E|D-1/2| = {p['mean_abs_d_minus_half']:.3f}" for p in summary["panels"]))
    else:
        from gannet import figures
        from gannet.models import networks_from_state

        state = _load_with_generator(_checkpoint_path(run.root, args.checkpoint), args.generator)
        cfg, G, _ = networks_from_state(state)
        if state["data_kind"] != "image":
            raise UsageError(f"Figure {args.figure} shows images; {run.root} was trained on points")
        if args.figure == 2:
            from gannet.data import load_dataset
            from gannet.training.trainer import generated_samples

            if args.data_root:
                cfg.data.root = args.data_root
            train = load_dataset(cfg.data, cfg.seed).train
            figures.save_figure_2(generated_samples(state, 20, seed=args.seed), train, out,
                                  signed=_signed_images(state))
        else:
            from gannet.noise import latent_options

            figures.save_figure_3(G, cfg.noise.prior, cfg.noise.dim, out, seed=args.seed,
                                  signed=_signed_images(state), **latent_options(cfg.noise))
    print(f"gannet: wrote Figure {args.figure} to {out}", file=sys.stderr)
    return 0


def cmd_plot(argv: list[str]) -> int:
    parser = _Parser(prog="gannet plot", description="Training curves from metrics.jsonl.")
    parser.add_argument("run", metavar="RUN")
    parser.add_argument("--out", help="output .png (default RUN/curves.png)")
    args = parser.parse_args(argv)

    from gannet.figures import plot_metrics
    from gannet.training.run_dir import RunDir, read_metrics

    run = RunDir(Path(args.run))
    if not run.metrics.exists():
        raise UsageError(f"{run.root}: no metrics.jsonl (is it a run folder?)")
    out = Path(args.out) if args.out else run.root / "curves.png"
    plot_metrics(read_metrics(run.metrics), out)
    print(f"gannet: wrote {out}", file=sys.stderr)
    return 0


def cmd_theory(argv: list[str]) -> int:
    parser = _Parser(prog="gannet theory", description="The paper's theory as experiments.")
    sub = parser.add_subparsers(dest="experiment", required=True)
    opt = sub.add_parser("optimal-d", help="train D against a frozen G on the 1-D toy; compare with D*")
    opt.add_argument("--run", help="a toy-1d run whose G is frozen (default: G(z) = 2 + 0.8 z, z ~ N(0, 1))")
    opt.add_argument("--steps", type=int, default=3000, help="D steps (default 3000)")
    opt.add_argument("--seed", type=int, default=0)
    opt.add_argument("--out", default="theory-optimal-d", help="folder for optimal_d.json and optimal_d.png")
    args = parser.parse_args(argv)

    import json

    from gannet.experiments import optimal_d
    from gannet.io import atomic_write_text

    generator, prior = None, "normal"
    if args.run:
        from gannet.checkpoint import load_checkpoint
        from gannet.toy_figure import toy_1d_networks

        state = load_checkpoint(_checkpoint_path(Path(args.run), "last"))
        try:
            cfg, generator, _ = toy_1d_networks(state)
        except ValueError as err:
            raise UsageError(f"{args.run}: {err}") from None
        prior = cfg.noise.prior
    if args.steps < 1:
        raise UsageError(f"--steps must be at least 1, got {args.steps}")
    _check_seed(args.seed)
    result = optimal_d.run(generator, prior, steps=args.steps, seed=args.seed)
    out = Path(args.out)
    summary = {**result.summary(), "steps": args.steps, "seed": args.seed, "generator": args.run or "2 + 0.8 z"}
    atomic_write_text(out / "optimal_d.json", json.dumps(summary, indent=2) + "\n")
    optimal_d.plot(result, out / "optimal_d.png")
    print(f"max |D - D*| = {result.max_gap:.4f} over the central 99% of the mass, {result.max_gap_anywhere:.4f} "
          f"anywhere (tails included); mean |D - D*| = {result.mean_gap:.4f}\n"
          f"V(D, G) = {result.v_history[-1][1]:.4f} after {args.steps} D steps; C(G) = {result.c_of_g:.4f} "
          f"(-log 4 = -1.3863)")
    print(f"gannet: wrote {out}/optimal_d.json and optimal_d.png", file=sys.stderr)
    return 0


# ------------------------------------------------------------------------------------------------
# recipes, data


def cmd_classifier(argv: list[str]) -> int:
    parser = _Parser(prog="gannet classifier", description="The classifier gannet trains on the "
                                     "real data for its sample-quality metrics (cached under $GANNET_CACHE or "
                                     "~/.cache/gannet, with its SHA-256 and test accuracy).")
    sub = parser.add_subparsers(dest="action", required=True)
    train = sub.add_parser("train", help="train (or retrain with --force) and cache the classifier of a dataset")
    train.add_argument("dataset", choices=["mnist", "fashion-mnist"])
    train.add_argument("--root", help="the dataset's folder (default: $GANNET_DATA/<dataset>)")
    train.add_argument("--epochs", type=int, default=3)
    train.add_argument("--force", action="store_true", help="retrain even when a valid cached one exists")
    show = sub.add_parser("show", help="print the cached classifier's record")
    show.add_argument("dataset", choices=["mnist", "fashion-mnist"])
    args = parser.parse_args(argv)

    from gannet.data import default_root
    from gannet.features.classifier import (
        ClassifierError,
        load_classifier,
        save_classifier,
        train_classifier,
    )

    if args.action == "show":
        print(json.dumps(load_classifier(args.dataset).record, indent=2))
        return 0
    if not args.force:
        try:
            record = load_classifier(args.dataset).record
            print(f"gannet: a valid {args.dataset} classifier is cached (test accuracy {record['test_accuracy']:.2%}); "
                  f"--force retrains it", file=sys.stderr)
            return 0
        except ClassifierError:
            pass
    if args.epochs <= 0:
        raise UsageError(f"--epochs must be positive, got {args.epochs}")
    trained = train_classifier(args.dataset, Path(args.root) if args.root else default_root(args.dataset), args.epochs)
    path = save_classifier(trained)
    print(f"gannet: {args.dataset} classifier: test accuracy {trained.record['test_accuracy']:.2%} after "
          f"{trained.record['train_seconds']:.0f} s; written to {path} (sha256 {trained.record['sha256'][:12]}...)")
    return 0


def cmd_recipes(argv: list[str]) -> int:
    _Parser(prog="gannet recipes", description="List the bundled recipes.").parse_args(argv)
    names = recipe_names()
    width = max(len(n) for n in names)
    for name in names:
        raw, _ = read_config_source(name)
        print(f"{name:<{width}}  {raw.get('description', '')}")
    return 0


def cmd_data(argv: list[str]) -> int:
    parser = _Parser(prog="gannet data", description="Dataset tools.")
    sub = parser.add_subparsers(dest="action", required=True)
    dl = sub.add_parser("download", help="fetch MNIST or Fashion-MNIST IDX files, verified")
    dl.add_argument("name", choices=["mnist", "fashion-mnist"])
    dl.add_argument("--root", help="folder to write into (default: $GANNET_DATA/<name> or ~/.cache/gannet/data/<name>)")
    dl.add_argument("--mirror", action="append", help="base URL to fetch from instead of the public mirrors "
                    "(repeatable)")
    dl.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for each mirror (default 5)")
    args = parser.parse_args(argv)

    from gannet.data import default_root
    from gannet.data.download import download

    root = Path(args.root) if args.root else default_root(args.name)
    download(args.name, root, mirrors=args.mirror, timeout=args.timeout,
             log=lambda msg: print(msg, file=sys.stderr))
    print(f"gannet: {args.name} is ready in {root} (use data.root={root})", file=sys.stderr)
    return 0

