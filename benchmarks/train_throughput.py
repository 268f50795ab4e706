"""Training throughput of gannet's loop against the plain PyTorch loops a user writes first.

All loops train the paper's MNIST architecture (G 100-1200-1200-784, maxout D 240x5-240x5 with
dropout) at batch 100 on the same in-memory data, in one process, in interleaved rounds so that drift
in the machine's speed hits every loop alike. Steady state: the first steps of each loop are not
timed, and the best of the rounds is printed (other work on a shared machine only ever slows a round
down; all rounds are printed too).

- ``plain, Algorithm 1``: the same work per step as gannet's alternating step (paper's Algorithm 1,
  k = 1): a D step on a real batch and a fake batch from fresh noise, then a G step on fresh noise
  through the updated D. Written as a user writes it first: a DataLoader over a TensorDataset,
  ``nn.Dropout``, maxout as ``nn.Linear`` + ``max``, sigmoid + ``BCELoss``, ``torch.optim.SGD`` with
  momentum (gannet's recipe uses the same kind of rule, classic momentum at lr 0.1, momentum 0.5),
  and ``.item()`` of both losses every step.
- ``plain, reused fake batch``: the loop earlier versions of this benchmark compared against (Adam;
  the G step reuses the D step's fake batch, so it skips a G forward pass: less work than Algorithm 1).
- gannet's own training loop (``Trainer.run`` of the ``mnist-2014`` recipe, alternating and
  simultaneous updates), its images/s read from the run's own metrics (log intervals after the first;
  they exclude sampling and checkpoint writing).

Also printed: the CPU's capability (``gannet.hardware.describe_cpu``), the FLOPs of one gannet step
counted by ``torch.utils.flop_counter`` on the real step, the achieved GFLOP/s as a fraction of a large
matrix product's GFLOP/s measured in the same run, the generator's sampling rate and the peak memory of
a whole training process. bf16 rows run only where the CPU has native bf16 (else they are skipped, with
the reason).

    GANNET_DATA=../shared/data python benchmarks/train_throughput.py [--rounds 3] [--steps 300]
        [--precisions fp32 bf16] [--threads N] [--json out.json] [KEY=VALUE config overrides ...]
    make bench
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.flop_counter import FlopCounterMode

from gannet.config import load_config
from gannet.hardware import bf16_is_fast, cpu_capability, describe_cpu
from gannet.training.run_dir import read_metrics
from gannet.training.trainer import Trainer

BATCH = 100
QUIET = ["monitor.enabled=false", "train.progress=false", "train.tensorboard=false", "device=cpu"]


class _Maxout(nn.Module):
    def __init__(self, fan_in: int, units: int, pieces: int):
        super().__init__()
        self.linear, self.pieces = nn.Linear(fan_in, units * pieces), pieces

    def forward(self, x):
        return self.linear(x).view(len(x), -1, self.pieces).max(-1).values


def _plain_networks() -> tuple[nn.Module, nn.Module]:
    G = nn.Sequential(nn.Linear(100, 1200), nn.ReLU(), nn.Linear(1200, 1200), nn.ReLU(), nn.Linear(1200, 784),
                      nn.Sigmoid())
    D = nn.Sequential(nn.Dropout(0.2), _Maxout(784, 240, 5), nn.Dropout(0.5), _Maxout(240, 240, 5),
                      nn.Dropout(0.5), nn.Linear(240, 1), nn.Sigmoid())
    return G, D


def _noise() -> torch.Tensor:
    return (torch.rand(BATCH, 100) * 2 - 1) * math.sqrt(3)  # U(-sqrt 3, sqrt 3), the recipe's prior


def _timed_loop(loader: DataLoader, step, steps: int, warmup: int) -> float:
    """Images/s of ``step(real)`` over ``steps`` batches after ``warmup`` untimed ones."""
    done, start = 0, time.perf_counter()
    while True:
        for (real,) in loader:
            if done == warmup:
                start = time.perf_counter()
            step(real)
            done += 1
            if done == warmup + steps:
                return steps * BATCH / (time.perf_counter() - start)


def plain_algorithm1(train: torch.Tensor, steps: int, warmup: int) -> float:
    """Images/s of a plain loop doing Algorithm 1 as gannet's alternating step does (same work per step)."""
    G, D = _plain_networks()
    opt_g = torch.optim.SGD(G.parameters(), lr=0.1, momentum=0.5)
    opt_d = torch.optim.SGD(D.parameters(), lr=0.1, momentum=0.5)
    bce = nn.BCELoss()
    ones, zeros = torch.ones(BATCH, 1), torch.zeros(BATCH, 1)
    loader = DataLoader(TensorDataset(train.reshape(len(train), -1)), batch_size=BATCH, shuffle=True, drop_last=True)

    def step(real):
        fake = G(_noise()).detach()  # D step: a real batch and a fake batch from fresh noise
        d_loss = 0.5 * (bce(D(real), ones) + bce(D(fake), zeros))
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = bce(D(G(_noise())), ones)  # G step: fresh noise, through the updated D
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        d_loss.item(), g_loss.item()

    return _timed_loop(loader, step, steps, warmup)


def plain_reused(train: torch.Tensor, steps: int, warmup: int) -> float:
    """Images/s of the plain loop that reuses the D step's fake batch for the G step (less work)."""
    G, D = _plain_networks()
    opt_g, opt_d = torch.optim.Adam(G.parameters(), 2e-4), torch.optim.Adam(D.parameters(), 2e-4)
    bce = nn.BCELoss()
    ones, zeros = torch.ones(BATCH, 1), torch.zeros(BATCH, 1)
    loader = DataLoader(TensorDataset(train.reshape(len(train), -1)), batch_size=BATCH, shuffle=True, drop_last=True)

    def step(real):
        fake = G(_noise())
        d_loss = bce(D(real), ones) + bce(D(fake.detach()), zeros)
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = bce(D(fake), ones)
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        d_loss.item(), g_loss.item()

    return _timed_loop(loader, step, steps, warmup)


def recipe(update: str, precision: str, overrides: list[str], *extra: str):
    return load_config("mnist-2014", [f"train.update={update}", f"precision={precision}", *QUIET, *overrides, *extra])


def gannet_loop(update: str, precision: str, steps: int, log_every: int, folder: Path, overrides: list[str]) -> float:
    """Images/s of ``gannet train mnist-2014`` (the log intervals after the first)."""
    cfg = recipe(update, precision, overrides, f"train.steps={steps}", f"train.log_every={log_every}")
    Trainer(cfg, folder, resume=False).run()
    return logged_rate(folder)


def logged_rate(folder: Path) -> float:
    """Mean images/s of a finished run's log intervals after the first (which includes start-up)."""
    rates = [r["images_per_s"] for r in read_metrics(folder / "metrics.jsonl") if "images_per_s" in r][1:]
    return sum(rates) / len(rates)


def step_flops(trainer: Trainer) -> int:
    """FLOPs of one real training step of ``trainer`` (matrix products; everything else is negligible)."""
    with FlopCounterMode(display=False) as counter:
        trainer.step_fn(trainer.gan, trainer.batches, trainer.cfg.train.k, trainer.loss)
    return counter.get_total_flops()


def matmul_peak(size: int, repeats: int = 10, dtype=torch.float32) -> float:
    """GFLOP/s of a large square matrix product (the machine's practical peak for ``dtype``)."""
    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * size**3 * repeats / (time.perf_counter() - start) / 1e9


def sampling_rate(generator: nn.Module, n: int) -> float:
    """Samples/s of the generator's forward pass (fp32, inference mode, batches of up to 10,000)."""
    z = (torch.rand(n, 100, generator=torch.Generator().manual_seed(0)) * 2 - 1) * math.sqrt(3)
    generator.eval()
    with torch.inference_mode():
        generator(z[:1000])
        start = time.perf_counter()
        for chunk in z.split(10_000):
            generator(chunk)
        return n / (time.perf_counter() - start)


def peak_memory_mb(update: str, steps: int, overrides: list[str]) -> float:
    """Peak resident memory of a fresh process that trains ``steps`` mnist-2014 steps (MiB)."""
    code = (
        "import json, resource, sys, tempfile\n"
        "from gannet.config import load_config\nfrom gannet.training.trainer import Trainer\n"
        "cfg = load_config('mnist-2014', json.loads(sys.argv[1]))\n"
        "Trainer(cfg, tempfile.mkdtemp()).run()\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    keys = [f"train.update={update}", f"train.steps={steps}", *QUIET, *overrides]
    out = subprocess.run([sys.executable, "-c", code, json.dumps(keys)], capture_output=True, text=True,
                         check=True).stdout
    return int(out.strip().splitlines()[-1]) / 1024


def measure(args) -> dict:
    """Every figure the benchmark prints, as a dict (also written by ``--json``)."""
    precisions = list(args.precisions)
    skipped = None
    if "bf16" in precisions and not bf16_is_fast("cpu"):
        precisions.remove("bf16")
        skipped = (f"bf16 rows skipped: this CPU ({cpu_capability()}) has no native bf16 matrix products, so "
                   "PyTorch would fall back to slow scalar code")
    variants = [(u, p) for p in precisions for u in ("alternating", "simultaneous")]
    results: dict[str, list[float]] = {"plain algorithm-1": [], "plain reused": []}
    results.update({f"peak {p}": [] for p in precisions})
    results.update({f"{u} {p}": [] for u, p in variants})
    with tempfile.TemporaryDirectory() as tmp:
        flops, generator = {}, None
        for update in ("alternating", "simultaneous"):
            trainer = Trainer(recipe(update, "fp32", args.overrides), Path(tmp) / f"flops-{update}")
            flops[update] = step_flops(trainer)
            generator = trainer.gan.generator
            train = torch.from_numpy(trainer.data.train)
        for round_ in range(args.rounds):
            for precision in precisions:
                dtype = torch.bfloat16 if precision == "bf16" else torch.float32
                results[f"peak {precision}"].append(matmul_peak(args.peak_size, dtype=dtype))
            results["plain algorithm-1"].append(plain_algorithm1(train, args.steps, args.warmup))
            results["plain reused"].append(plain_reused(train, args.steps, args.warmup))
            for update, precision in variants:
                folder = Path(tmp) / f"{update}-{precision}-{round_}"
                results[f"{update} {precision}"].append(
                    gannet_loop(update, precision, args.steps, args.log_every, folder, args.overrides))
    figures = {"cpu": describe_cpu(), "capability": cpu_capability(), "bf16_skipped": skipped,
               "threads": torch.get_num_threads(), "flops_per_image": {u: f / BATCH for u, f in flops.items()},
               "rounds": results, "best": {k: max(v) for k, v in results.items()},
               "median": {k: statistics.median(v) for k, v in results.items()}}
    figures["sampling_per_s"] = sampling_rate(generator, args.samples) if args.samples else None
    figures["peak_memory_mib"] = ({u: peak_memory_mb(u, args.memory_steps, args.overrides)
                                   for u in ("alternating", "simultaneous")} if args.memory_steps else None)
    return figures


def report(figures: dict) -> None:
    med = figures["best"]
    precisions = [k.split()[1] for k in med if k.startswith("peak ")]
    print(f"{figures['cpu']}; matrix-product peak: "
          + ", ".join(f"{p} {med['peak ' + p]:.0f} GFLOP/s" for p in precisions))
    if figures["bf16_skipped"]:
        print(figures["bf16_skipped"])
    alg1, reused = med["plain algorithm-1"], med["plain reused"]
    print(f"plain loop, Algorithm 1, fp32 (DataLoader, nn.Dropout, BCELoss, SGD momentum, .item()): "
          f"{alg1:7.0f} images/s")
    print(f"plain loop, reused fake batch, fp32 (Adam; one G forward less than Algorithm 1):       "
          f"{reused:7.0f} images/s")
    for precision in precisions:
        for update in ("alternating", "simultaneous"):
            rate = med[f"{update} {precision}"]
            per_image = figures["flops_per_image"][update]
            achieved = rate * per_image / 1e9
            print(f"gannet {update:<13} {precision}: {rate:7.0f} images/s = {rate / alg1:.2f}x plain Algorithm 1, "
                  f"{rate / reused:.2f}x plain reused; {per_image / 1e6:.1f} MFLOP/image, {achieved:.0f} GFLOP/s = "
                  f"{achieved / med['peak ' + precision]:.0%} of the {precision} peak")
    print("best of the rounds (other work on the machine only slows a round down); all rounds:",
          json.dumps({k: [round(x) for x in v] for k, v in figures["rounds"].items()}))
    if figures["sampling_per_s"] is not None:
        print(f"sampling: {figures['sampling_per_s']:.0f} samples/s from the mnist-2014 generator (fp32)")
    for update, mib in (figures["peak_memory_mib"] or {}).items():
        print(f"peak memory of a mnist-2014 training process ({update}, whole process, data included): {mib:.0f} MiB")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the best is printed")
    parser.add_argument("--steps", type=int, default=300, help="timed steps of each loop per round")
    parser.add_argument("--warmup", type=int, default=20, help="untimed steps of each plain loop first")
    parser.add_argument("--log-every", type=int, default=50, help="gannet's log interval (the first is not timed)")
    parser.add_argument("--precisions", nargs="+", choices=["fp32", "bf16"], default=["fp32", "bf16"])
    parser.add_argument("--peak-size", type=int, default=2048, help="side of the square matrix product timed")
    parser.add_argument("--samples", type=int, default=50_000, help="samples drawn to time sampling (0: skip)")
    parser.add_argument("--memory-steps", type=int, default=200, help="steps of the peak-memory processes (0: skip)")
    parser.add_argument("--threads", type=int, help="torch threads for every loop (default: PyTorch's choice)")
    parser.add_argument("--json", help="also write every figure to this file")
    parser.add_argument("overrides", nargs="*", help="config overrides for every gannet run, KEY=VALUE")
    return run(parser.parse_args(argv), measure, report)


def run(args, measure, report) -> dict:
    """A benchmark's body: set ``--threads``, print the CPU, measure, report, and write ``--json``."""
    if args.threads:
        torch.set_num_threads(args.threads)
    print(describe_cpu(), flush=True)
    figures = measure(args)
    report(figures)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    return figures


if __name__ == "__main__":
    main()
