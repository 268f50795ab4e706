"""The ``gannet`` command: train, sample, recipes, data download."""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from gannet import distributed
from gannet.config import ConfigError, read_config_source, recipe_names
from gannet.errors import UsageError


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
  export RUN_OR_CHECKPOINT --out FILE [--format checkpoint|torchscript|onnx]
                       keep only what sampling and evaluation need (G and its config), or G alone
                       as TorchScript or ONNX (noise to samples, no gannet needed to run it)
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

    from gannet.training import launch
    from gannet.training.trainer import TrainingDiverged, TrainingInterrupted

    try:
        launch.train(args.config, args.out, args.overrides, resume=args.resume, overwrite=args.overwrite)
    except TrainingInterrupted as err:
        _say_on_main(f"gannet: {err}")
        return 130
    except TrainingDiverged as err:
        _say_on_main(f"error: {err}")
        return 1
    except launch.StoppedAtOnce as err:
        _say_on_main(f"error: {err}")
        return 130
    return 0


def _say_on_main(message: str) -> None:
    """A line on stderr from rank 0 only (every rank of a torchrun launch runs the same command)."""
    if distributed.from_environment().is_main:  # the process group is gone by now
        print(message, file=sys.stderr)


def _file_above(path: Path) -> Path | None:
    from gannet.training.launch import file_above

    return file_above(path)


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
    from gannet.sampling import iter_samples

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
    from gannet.sampling import check_device

    check_device(name)


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
    parser = _Parser(prog="gannet export", description="Write a generator-only checkpoint (G's weights and "
                     "config, enough for sample, eval and figures), or G alone as TorchScript or ONNX: a "
                     "network from noise to samples that runs without gannet.")
    parser.add_argument("source", metavar="RUN_OR_CHECKPOINT")
    parser.add_argument("--out", required=True, help="output file: .pt (checkpoint, torchscript) or .onnx")
    parser.add_argument("--format", choices=["checkpoint", "torchscript", "onnx"], default="checkpoint",
                        help="checkpoint: a gannet generator-only checkpoint (default); torchscript: a traced "
                        "module for torch.jit.load; onnx: an ONNX graph (needs the onnx package). Both map z "
                        "(N, latent_dim) to samples, for any N; the noise prior is in their metadata (gannet.json)")
    parser.add_argument("--checkpoint", choices=["best", "last"], help="which checkpoint of a run folder "
                        "(default: best by validation when the run has one, else last)")
    _add_generator_option(parser)
    parser.add_argument("--with-discriminator", action="store_true", help="also keep D's weights (InfoGAN's Q is "
                        "part of D: gannet eval --metric codes needs them)")
    parser.add_argument("--half", action="store_true", help="store the weights as float16: half the file, a "
                        "rounded copy of the trained weights (loaded back as float32)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    suffix = ".onnx" if args.format == "onnx" else ".pt"
    if out.suffix != suffix:
        raise UsageError(f"--out {out}: the file name must end in {suffix}")
    if args.format != "checkpoint" and (args.with_discriminator or args.half):
        raise UsageError(f"--format {args.format} writes G alone in float32: --with-discriminator and --half "
                         f"are for --format checkpoint")
    _check_output_file(out)

    from gannet.checkpoint import CheckpointError, as_average, generator_only, save_checkpoint

    path = _checkpoint_path(Path(args.source), args.checkpoint)
    if out.resolve() == path.resolve() or (out.parent.name == "checkpoints" and out.name in ("last.pt", "best.pt")):
        raise UsageError(f"--out {out}: would replace a run's own checkpoint; write the generator elsewhere")
    state = _load_with_generator(path, args.generator)
    if args.format != "checkpoint":
        from gannet import export
        from gannet.sampling import Generator

        G = Generator.from_state(state)
        (export.to_torchscript if args.format == "torchscript" else export.to_onnx)(G, out)
        print(f"gannet: wrote G of {path} (step {state['step']}) as {args.format} to {out}: z {G.latent_dim}-d "
              f"({G.config.noise.prior} prior) -> samples {G.data_shape}", file=sys.stderr)
        return 0
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
    from gannet.sampling import load_state

    return load_state(path, which)


def _signed_images(state: dict) -> bool:
    from gannet.sampling import signed_images

    return signed_images(state)


def _checkpoint_path(source: Path, which: str | None) -> Path:
    from gannet.sampling import checkpoint_path

    return checkpoint_path(source, which)


# ------------------------------------------------------------------------------------------------
# eval, figures, plot, theory


def cmd_eval(argv: list[str]) -> int:
    from gannet.scoring import METRICS, Protocol, evaluate, resolve

    parser = _Parser(prog="gannet eval", description="Evaluate a trained generator.")
    parser.add_argument("source", metavar="RUN_OR_CHECKPOINT")
    parser.add_argument("--metric", choices=[*METRICS, "all"], default="parzen",
                        help="; ".join(f"{m.name}: {m.help}" for m in METRICS.values()) + "; all: every metric that "
                        "applies to the run's data (inception too when --inception-weights is given)")
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
    protocol = Protocol(samples=args.samples, valid=args.valid, split=args.split, seed=args.seed,
                        data_root=args.data_root, device=args.device, generator=args.generator,
                        inception_weights=args.inception_weights)
    protocol.check()

    path = _checkpoint_path(Path(args.source), args.checkpoint)
    evaluate(path, resolve(args.metric, path, protocol), protocol, report=print,
             note=lambda line: print(line, file=sys.stderr))
    return 0


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
            from gannet.sampling import generated_samples

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
    from gannet.features.classifier import DATASETS  # the labelled datasets it is trained for

    parser = _Parser(prog="gannet classifier", description="The classifier gannet trains on the "
                                     "real data for its sample-quality metrics (cached under $GANNET_CACHE or "
                                     "~/.cache/gannet, with its SHA-256 and test accuracy).")
    sub = parser.add_subparsers(dest="action", required=True)
    train = sub.add_parser("train", help="train (or retrain with --force) and cache the classifier of a dataset")
    train.add_argument("dataset", choices=DATASETS)
    train.add_argument("--root", help="the dataset's folder (default: $GANNET_DATA/<dataset>)")
    train.add_argument("--epochs", type=int, default=3)
    train.add_argument("--force", action="store_true", help="retrain even when a valid cached one exists")
    show = sub.add_parser("show", help="print the cached classifier's record")
    show.add_argument("dataset", choices=DATASETS)
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
    from gannet.data.download import CHECKSUMS  # the datasets it knows how to fetch and verify

    parser = _Parser(prog="gannet data", description="Dataset tools.")
    sub = parser.add_subparsers(dest="action", required=True)
    dl = sub.add_parser("download", help="fetch MNIST or Fashion-MNIST IDX files, verified")
    dl.add_argument("name", choices=list(CHECKSUMS))
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

