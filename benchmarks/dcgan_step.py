"""Training speed of gannet's DCGAN recipe against a plain PyTorch DCGAN loop of the same networks.

The plain loop is what a user writes first from the PyTorch DCGAN example, for the networks of the
``dcgan-mnist`` recipe (the DCGAN code's MNIST networks: G = FC 1024 -> FC 7x7x128 -> upconv 64 ->
upconv 1, sigmoid; D = conv 64 -> conv 128 -> FC 1024 -> 1, batch norm on every layer but D's first):

- Algorithm 1 with k = 1: a D step on a real minibatch and a fake one from fresh noise, passed through
  the batch-norm D as two separate batches; then a G step on fresh noise through the updated D;
- sigmoid outputs and ``nn.BCELoss``; ``torch.optim.Adam`` (2e-4, betas 0.5, 0.999) for each player;
- a ``DataLoader`` over a ``TensorDataset`` of the training images, shuffled;
- ``.item()`` of both losses every step.

gannet's row is its own training loop (``Trainer.run`` of the recipe, monitors, samples and the moving
average's checkpoints left out), its images/s read from the run's log intervals after the first. Both
run in one process, in alternating rounds so that drift in the machine's speed hits both alike, and the
best round of each is compared (other work on a shared machine only ever slows a round down; all
rounds are printed too). Also printed: the CPU's capability, the FLOPs of one training image (counted
by ``torch.utils.flop_counter`` on gannet's real step) and the fraction of a large fp32 matrix
product's speed, measured in the same run, that each loop reaches.

    GANNET_DATA=../shared/data python benchmarks/dcgan_step.py [--rounds 3] [--steps 60]
        [--threads N] [--json out.json] [KEY=VALUE overrides of the recipe ...]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from gannet.config import Config, load_config
from gannet.hardware import cpu_capability, describe_cpu
from gannet.training.trainer import Trainer
from train_throughput import logged_rate, matmul_peak, run, step_flops  # the sibling benchmark's helpers

QUIET = ["monitor.enabled=false", "train.progress=false", "train.tensorboard=false", "device=cpu",
         "train.sample_every=1000000", "train.checkpoint_every=1000000", "train.ema=null"]


def plain_networks(cfg: Config) -> tuple[nn.Module, nn.Module]:
    """The recipe's G and D as a user writes them in plain PyTorch (28x28 grey images): the fully
    connected layers as ``nn.Linear``, the rest as in the PyTorch DCGAN example."""
    nz, ngf, ndf = cfg.noise.dim, cfg.generator.width, cfg.discriminator.width
    g_dense, d_dense = cfg.generator.dense, cfg.discriminator.dense
    g_layers: list[nn.Module] = []
    if g_dense:
        g_layers += [nn.Linear(nz, g_dense, bias=False), nn.BatchNorm1d(g_dense), nn.ReLU(True)]
    g_layers += [nn.Linear(g_dense or nz, 2 * ngf * 49, bias=False), nn.Unflatten(1, (2 * ngf, 7, 7)),
                 nn.BatchNorm2d(2 * ngf), nn.ReLU(True),
                 nn.ConvTranspose2d(2 * ngf, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
                 nn.ConvTranspose2d(ngf, 1, 4, 2, 1), nn.Sigmoid()]
    d_layers: list[nn.Module] = [nn.Conv2d(1, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True),
                                 nn.Conv2d(ndf, 2 * ndf, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * ndf),
                                 nn.LeakyReLU(0.2, True), nn.Flatten()]
    if d_dense:
        d_layers += [nn.Linear(2 * ndf * 49, d_dense, bias=False), nn.BatchNorm1d(d_dense), nn.LeakyReLU(0.2, True),
                     nn.Linear(d_dense, 1)]
    else:
        d_layers += [nn.Linear(2 * ndf * 49, 1)]
    return nn.Sequential(*g_layers), nn.Sequential(*d_layers, nn.Sigmoid())


def plain_loop(cfg: Config, train: torch.Tensor, steps: int, warmup: int) -> float:
    """Images/s of the plain Algorithm-1 loop over ``steps`` minibatches after ``warmup`` untimed ones."""
    G, D = plain_networks(cfg)
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg.optim.lr, betas=(cfg.optim.beta1, cfg.optim.beta2))
    opt_d = torch.optim.Adam(D.parameters(), lr=cfg.optim.lr, betas=(cfg.optim.beta1, cfg.optim.beta2))
    batch, nz = cfg.train.batch_size, cfg.noise.dim
    bce = nn.BCELoss()
    ones, zeros = torch.ones(batch, 1), torch.zeros(batch, 1)
    loader = DataLoader(TensorDataset(train), batch_size=batch, shuffle=True, drop_last=True)
    done, start = 0, time.perf_counter()
    while True:
        for (real,) in loader:
            if done == warmup:
                start = time.perf_counter()
            fake = G(torch.randn(batch, nz)).detach()  # D step: real and fake as two batches
            d_loss = 0.5 * (bce(D(real), ones) + bce(D(fake), zeros))
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
            g_loss = bce(D(G(torch.randn(batch, nz))), ones)  # G step: fresh noise, the updated D
            opt_g.zero_grad()
            g_loss.backward()
            opt_g.step()
            d_loss.item(), g_loss.item()
            done += 1
            if done == warmup + steps:
                return steps * batch / (time.perf_counter() - start)


def gannet_loop(cfg: Config, folder: Path) -> float:
    """Images/s of gannet's own training loop (the log intervals after the first)."""
    Trainer(cfg, folder).run()
    return logged_rate(folder)


def measure(args) -> dict:
    cfg_of = lambda *extra: load_config(args.recipe, [*QUIET, *args.overrides, *extra])  # noqa: E731
    steps = args.warmup_log + args.steps
    cfg = cfg_of(f"train.steps={steps}", f"train.log_every={args.warmup_log if args.warmup_log else steps}")
    if cfg.generator.arch != "dcgan" or cfg.discriminator.arch != "dcgan" or cfg.loss.info or cfg.train.k != 1:
        sys.exit(f"error: {args.recipe}: the plain loop is written for a DCGAN G and D with k = 1 and no InfoGAN term")
    rounds: dict[str, list[float]] = {"plain": [], "gannet": [], "peak fp32": []}
    with tempfile.TemporaryDirectory() as tmp:
        per_image = step_flops(Trainer(cfg_of("train.steps=1"), Path(tmp) / "flops")) / cfg.train.batch_size
        from gannet.data import load_dataset

        train = torch.from_numpy(load_dataset(cfg.data, cfg.seed).train)
        for r in range(args.rounds):
            rounds["peak fp32"].append(matmul_peak(args.peak_size))
            rounds["plain"].append(plain_loop(cfg, train, args.steps, args.warmup))
            rounds["gannet"].append(gannet_loop(cfg, Path(tmp) / f"gannet-{r}"))
    best = {k: max(v) for k, v in rounds.items()}
    return {"cpu": describe_cpu(), "capability": cpu_capability(), "threads": torch.get_num_threads(),
            "recipe": args.recipe, "overrides": args.overrides, "batch_size": cfg.train.batch_size,
            "flops_per_image": per_image, "rounds": rounds, "best": best,
            "median": {k: statistics.median(v) for k, v in rounds.items()},
            "ratio": best["gannet"] / best["plain"]}


def report(f: dict) -> None:
    best, peak = f["best"], f["best"]["peak fp32"]
    print(f"{f['cpu']}; {f['threads']} threads; fp32 matrix-product peak {peak:.0f} GFLOP/s")
    print(f"{f['recipe']}, batch {f['batch_size']}: {f['flops_per_image'] / 1e6:.1f} MFLOP per training image")
    for name, label in (("plain", "plain PyTorch loop (DataLoader, BCELoss, Adam, .item())"),
                        ("gannet", "gannet train")):
        gflops = best[name] * f["flops_per_image"] / 1e9
        print(f"{label:<58} {best[name]:7.0f} images/s, {gflops:5.1f} GFLOP/s = {gflops / peak:.0%} of the peak")
    print(f"gannet / plain: {f['ratio']:.2f}x (best round of each; all rounds: "
          + json.dumps({k: [round(x) for x in v] for k, v in f["rounds"].items()}) + ")")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipe", default="dcgan-mnist")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; the best of each loop is compared")
    parser.add_argument("--steps", type=int, default=60, help="timed steps of each loop per round")
    parser.add_argument("--warmup", type=int, default=10, help="untimed steps of the plain loop first")
    parser.add_argument("--warmup-log", type=int, default=10, help="gannet's first log interval, not timed")
    parser.add_argument("--peak-size", type=int, default=2048, help="side of the square matrix product timed")
    parser.add_argument("--threads", type=int, help="torch threads for both loops (default: PyTorch's choice)")
    parser.add_argument("--json", help="also write every figure to this file")
    parser.add_argument("overrides", nargs="*", help="config overrides for both loops, KEY=VALUE")
    return run(parser.parse_args(argv), measure, report)

if __name__ == "__main__":
    main()
