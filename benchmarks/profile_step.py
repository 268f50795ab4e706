"""Where one training step of the ``mnist-2014`` recipe spends its time: ``torch.profiler`` over real steps.

    GANNET_DATA=../shared/data python benchmarks/profile_step.py [--update alternating] [--precision fp32]
        [--steps 100] [--rows 25]

Prints the profiler's table of operators sorted by self CPU time, and the step's wall time per image.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from torch.profiler import ProfilerActivity, profile

from gannet.config import load_config
from gannet.train.trainer import Trainer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--update", default="alternating", choices=["alternating", "simultaneous"])
    parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--rows", type=int, default=25)
    parser.add_argument("overrides", nargs="*", help="extra config overrides, key=value")
    args = parser.parse_args()
    data_root = str(Path(os.environ.get("GANNET_DATA", "../shared/data")) / "mnist")
    cfg = load_config("mnist-2014", [f"train.update={args.update}", f"precision={args.precision}",
                                     "monitor.enabled=false", "train.progress=false", "train.tensorboard=false",
                                     "device=cpu", f"data.root={data_root}", *args.overrides])
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(cfg, tmp)

        def step():
            trainer.step_fn(trainer.gan, trainer.batches, cfg.train.k, trainer.generator_loss)

        for _ in range(20):
            step()
        start = time.perf_counter()
        for _ in range(args.steps):
            step()
        seconds = time.perf_counter() - start
        print(f"{args.update} {args.precision}: {args.steps * cfg.train.batch_size / seconds:.0f} images/s "
              f"unprofiled ({seconds / args.steps * 1e3:.2f} ms/step)")
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(args.steps):
                step()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=args.rows))


if __name__ == "__main__":
    main()
