"""Where one training step of a recipe (``mnist-2014`` by default) spends its time: ``torch.profiler``
over real steps.

    GANNET_DATA=../shared/data python benchmarks/profile_step.py [--recipe dcgan-mnist] [--update alternating] [--precision fp32]
        [--steps 100] [--warmup 20] [--rows 25] [--threads N] [KEY=VALUE config overrides ...]

Prints the CPU's capability, the step's wall time per image (unprofiled), and the profiler's table of
operators sorted by self CPU time.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch
from torch.profiler import ProfilerActivity, profile

from gannet.config import load_config
from gannet.hardware import bf16_is_fast, describe_cpu
from gannet.training.trainer import Trainer


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipe", default="mnist-2014")
    parser.add_argument("--update", default="alternating", choices=["alternating", "simultaneous"])
    parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    parser.add_argument("--steps", type=int, default=100, help="steps timed, then as many profiled")
    parser.add_argument("--warmup", type=int, default=20, help="untimed steps first")
    parser.add_argument("--rows", type=int, default=25)
    parser.add_argument("--threads", type=int, help="torch threads (default: PyTorch's choice)")
    parser.add_argument("overrides", nargs="*", help="extra config overrides, key=value")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(describe_cpu(), flush=True)
    if args.precision == "bf16" and not bf16_is_fast("cpu"):
        print("warning: this CPU has no native bf16 matrix products; the bf16 profile shows PyTorch's slow fallback")
    cfg = load_config(args.recipe, [f"train.update={args.update}", f"precision={args.precision}",
                                     "monitor.enabled=false", "train.progress=false", "train.tensorboard=false",
                                     "device=cpu", *args.overrides])
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(cfg, tmp)

        def step():
            trainer.step_fn(trainer.gan, trainer.batches, cfg.train.k, trainer.loss)

        for _ in range(args.warmup):
            step()
        start = time.perf_counter()
        for _ in range(args.steps):
            step()
        seconds = time.perf_counter() - start
        rate = args.steps * cfg.train.batch_size / seconds
        print(f"{args.recipe} {args.update} {args.precision}: {rate:.0f} images/s unprofiled "
              f"({seconds / args.steps * 1e3:.2f} ms/step)")
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(args.steps):
                step()
    averages = prof.key_averages()
    print(averages.table(sort_by="self_cpu_time_total", row_limit=args.rows))
    return {"images_per_s": rate, "operators": {e.key: e.self_cpu_time_total for e in averages}}


if __name__ == "__main__":
    main()
