"""Reproduce Table 1 of Goodfellow et al. (2014) end to end: train, select by validation, score, tabulate.

    GANNET_DATA=../shared/data python benchmarks/reproduce_table1.py [--out runs/table1]
        [--variants released:200000 released-ema:200000 gaussian:40000 ...] [--steps 30000]
    make table1

Each variant is trained in ``OUT/<variant>`` (continued if the folder exists, so the command can be
stopped and rerun) keeping a checkpoint every 5,000 steps; the kept checkpoint of highest validation
Parzen estimate (full protocol on validation images only) is scored once with the full protocol on
the test set, and the table (with the real-data reference rows and the paper's numbers) is written
to ``OUT/table1.md`` and ``OUT/table1.json``. ``--smoke`` runs a few steps and a small protocol: it
checks the pipeline, not the number.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from gannet.experiments.table1 import parse_plan, reproduce
from gannet.hardware import describe_cpu

# The rows of docs/reproduction.md: one released run scored raw and averaged two ways, the variants at their
# budgets, and Fashion-MNIST (one run, raw and averaged).
DEFAULT_PLAN = ["released:200000", "released-ema:200000", "released-swa:200000", "gaussian:40000",
                "alternating:30000", "minimax:30000", "fashion:30000", "fashion-ema:30000"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", help="folder for the runs and the table (default runs/table1; runs/table1-smoke "
                        "with --smoke, so that a smoke run is never continued as a real one)")
    parser.add_argument("--variants", nargs="+", default=DEFAULT_PLAN, metavar="NAME[:STEPS]")
    parser.add_argument("--steps", type=int, default=30_000, help="steps of a variant given without :STEPS")
    parser.add_argument("--data-root", help="folder holding mnist/ and fashion-mnist/ (default: $GANNET_DATA)")
    parser.add_argument("--smoke", action="store_true", help="tiny runs and protocol: checks the pipeline only")
    parser.add_argument("--tiny", action="store_true", help="--smoke with small networks, batches of 20 and 100 "
                        "validation images (seconds; runs on a few hundred images)")
    args = parser.parse_args(argv)
    args.smoke = args.smoke or args.tiny
    print(describe_cpu(), flush=True)
    args.out = args.out or ("runs/table1-smoke" if args.smoke else "runs/table1")
    extra: tuple[str, ...] = ("train.checkpoint_every=5000", "train.keep_checkpoints=true")
    samples, valid, centres = 10_000, 1_000, 10_000
    if args.smoke:
        args.variants = [v.partition(":")[0] + ":20" for v in args.variants]
        extra = ("monitor.every=10", "train.log_every=10", "train.tensorboard=false", "train.checkpoint_every=10",
                 "train.keep_checkpoints=true")
        samples, valid, centres = 500, 100, 500
    if args.tiny:
        args.variants = [v.partition(":")[0] + ":10" for v in args.variants]
        extra += ("generator.hidden=[32,32]", "discriminator.hidden=[16,16]", "train.batch_size=20",
                  "data.valid_size=100", "monitor.valid_examples=100", "monitor.every=5", "train.log_every=5",
                  "train.checkpoint_every=5")
        samples, valid, centres = 100, 50, 100
    started = time.perf_counter()
    reproduce(parse_plan(args.variants, args.steps), Path(args.out), args.data_root, samples, valid, centres, extra)
    print((Path(args.out) / "table1.md").read_text())
    print(f"wall-clock: {time.perf_counter() - started:.0f} s for this invocation (training already done in the "
          f"run folders is not repeated)")


if __name__ == "__main__":
    main()
