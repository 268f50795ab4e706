"""Training throughput of gannet's loop against the plain PyTorch loop a user writes first.

Both train the paper's MNIST architecture (G 100-1200-1200-784, maxout D 240x5-240x5 with dropout) at
batch 100 on the same in-memory data, in one process, alternating rounds so that drift in the machine's
speed hits both. The plain loop is a DataLoader over a TensorDataset, sigmoid + BCELoss, Adam, three D
forwards per step and ``.item()`` every step. gannet runs its real training loop (``Trainer.run``),
and its images/s are read from the run's own metrics, which exclude sampling and checkpoint writing.

Also printed: the FLOPs of one gannet step, counted by ``torch.utils.flop_counter`` on the real step,
the achieved GFLOP/s, and the fraction of a large fp32 matrix product's GFLOP/s measured in this run.

Then the sampling rate of the generator and the peak memory of a whole training process.

    GANNET_DATA=../shared/data python benchmarks/train_throughput.py [--rounds 3] [--steps 300]
    make bench
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.flop_counter import FlopCounterMode

from gannet.config import load_config
from gannet.train.run_dir import read_metrics
from gannet.train.trainer import Trainer


class _Maxout(nn.Module):
    def __init__(self, fan_in: int, units: int, pieces: int):
        super().__init__()
        self.linear, self.pieces = nn.Linear(fan_in, units * pieces), pieces

    def forward(self, x):
        return self.linear(x).view(len(x), -1, self.pieces).max(-1).values


def plain_loop(train: torch.Tensor, steps: int, warmup: int = 20) -> float:
    """Images/s of the straightforward loop (after ``warmup`` steps)."""
    G = nn.Sequential(nn.Linear(100, 1200), nn.ReLU(), nn.Linear(1200, 1200), nn.ReLU(), nn.Linear(1200, 784),
                      nn.Sigmoid())
    D = nn.Sequential(nn.Dropout(0.2), _Maxout(784, 240, 5), nn.Dropout(0.5), _Maxout(240, 240, 5),
                      nn.Dropout(0.5), nn.Linear(240, 1), nn.Sigmoid())
    opt_g, opt_d = torch.optim.Adam(G.parameters(), 2e-4), torch.optim.Adam(D.parameters(), 2e-4)
    bce = nn.BCELoss()
    ones, zeros = torch.ones(100, 1), torch.zeros(100, 1)
    loader = DataLoader(TensorDataset(train.reshape(len(train), -1)), batch_size=100, shuffle=True, drop_last=True)
    done, start = 0, None
    while True:
        for (real,) in loader:
            if done == warmup:
                start = time.perf_counter()
            fake = G(torch.rand(100, 100) * 2 - 1)
            d_loss = bce(D(real), ones) + bce(D(fake.detach()), zeros)
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
            g_loss = bce(D(fake), ones)
            opt_g.zero_grad()
            g_loss.backward()
            opt_g.step()
            d_loss.item(), g_loss.item()
            done += 1
            if done == warmup + steps:
                return steps * 100 / (time.perf_counter() - start)


def gannet_loop(update: str, precision: str, steps: int, folder: Path, data_root: str) -> float:
    """Images/s of ``gannet train mnist-2014`` (the log intervals after the first)."""
    cfg = load_config("mnist-2014", [f"train.update={update}", f"precision={precision}", f"train.steps={steps}",
                                     "train.log_every=50",
                                     "monitor.enabled=false", "train.progress=false", "train.tensorboard=false",
                                     "device=cpu", f"data.root={data_root}"])
    Trainer(cfg, folder, resume=False).run()
    rates = [r["images_per_s"] for r in read_metrics(folder / "metrics.jsonl") if "images_per_s" in r][1:]
    return sum(rates) / len(rates)


def step_flops(update: str, data_root: str, folder: Path) -> int:
    cfg = load_config("mnist-2014", [f"train.update={update}", "train.steps=1", "monitor.enabled=false",
                                     "train.progress=false", "train.tensorboard=false", "device=cpu",
                                     f"data.root={data_root}"])
    trainer = Trainer(cfg, folder)
    with FlopCounterMode(display=False) as counter:
        trainer.step_fn(trainer.gan, trainer.batches, 1, trainer.generator_loss)
    return counter.get_total_flops()


def matmul_peak(size: int = 2048, repeats: int = 10, dtype=torch.float32) -> float:
    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * size**3 * repeats / (time.perf_counter() - start) / 1e9


def sampling_rate(folder: Path, data_root: str, n: int = 50_000) -> float:
    """Samples/s of a mnist-2014 generator's forward pass (fp32, inference mode, batches of 10,000)."""
    from gannet.checkpoint import load_checkpoint
    from gannet.models import networks_from_state
    from gannet.noise import sample_noise

    cfg = load_config("mnist-2014", ["train.steps=1", "monitor.enabled=false", "train.progress=false",
                                     "train.tensorboard=false", "device=cpu", f"data.root={data_root}"])
    Trainer(cfg, folder).run()
    _, G, _ = networks_from_state(load_checkpoint(folder / "checkpoints" / "last.pt"))
    z = sample_noise("uniform", n, 100, torch.Generator().manual_seed(0))
    with torch.inference_mode():
        G(z[:1000])
        start = time.perf_counter()
        for chunk in z.split(10_000):
            G(chunk)
        return n / (time.perf_counter() - start)


def peak_memory_mb(data_root: str, update: str, steps: int = 200) -> float:
    """Peak resident memory of a fresh process that trains ``steps`` mnist-2014 steps (MiB)."""
    import subprocess
    import sys

    code = (
        "import resource, tempfile\n"
        "from gannet.config import load_config\nfrom gannet.train.trainer import Trainer\n"
        f"cfg = load_config('mnist-2014', ['train.update={update}', 'train.steps={steps}', 'train.progress=false', "
        f"'train.tensorboard=false', 'device=cpu', 'data.root={data_root}'])\n"
        "Trainer(cfg, tempfile.mkdtemp()).run()\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return int(out.strip().splitlines()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    data_root = str(Path(os.environ.get("GANNET_DATA", "../shared/data")) / "mnist")
    from gannet.data.mnist import load_mnist_splits

    train = torch.from_numpy(load_mnist_splits(Path(data_root), "mnist", 10_000)["train"])
    variants = [(u, p) for p in ("fp32", "bf16") for u in ("alternating", "simultaneous")]
    results: dict[str, list[float]] = {"plain": [], "peak fp32": [], "peak bf16": []}
    results.update({f"{u} {p}": [] for u, p in variants})
    with tempfile.TemporaryDirectory() as tmp:
        flops = {u: step_flops(u, data_root, Path(tmp) / f"flops-{u}") for u in ("alternating", "simultaneous")}
        for round_ in range(args.rounds):
            results["peak fp32"].append(matmul_peak())
            results["peak bf16"].append(matmul_peak(dtype=torch.bfloat16))
            results["plain"].append(plain_loop(train, args.steps))
            for update, precision in variants:
                folder = Path(tmp) / f"{update}-{precision}-{round_}"
                results[f"{update} {precision}"].append(gannet_loop(update, precision, args.steps, folder, data_root))
    best = {k: max(v) for k, v in results.items()}
    print(f"threads: {torch.get_num_threads()}; matrix-product peak: fp32 {best['peak fp32']:.0f} GFLOP/s, "
          f"bf16 {best['peak bf16']:.0f} GFLOP/s")
    print(f"plain loop, fp32 (DataLoader, BCELoss, Adam, 3 D forwards, .item()): {best['plain']:7.0f} images/s")
    for update, precision in variants:
        rate = best[f"{update} {precision}"]
        per_image = flops[update] / 100
        achieved = rate * per_image / 1e9
        print(f"gannet {update:<13} {precision}: {rate:7.0f} images/s = {rate / best['plain']:.2f}x plain; "
              f"{per_image / 1e6:.1f} MFLOP/image, {achieved:.0f} GFLOP/s = "
              f"{achieved / best['peak ' + precision]:.0%} of the {precision} peak")
    print("all rounds:", json.dumps({k: [round(x) for x in v] for k, v in results.items()}))
    with tempfile.TemporaryDirectory() as tmp:
        print(f"sampling: {sampling_rate(Path(tmp), data_root):.0f} samples/s from the mnist-2014 generator (fp32)")
    for update in ("alternating", "simultaneous"):
        print(f"peak memory of a mnist-2014 training process ({update}, whole process, data included): "
              f"{peak_memory_mb(data_root, update):.0f} MiB")


if __name__ == "__main__":
    main()
