"""How fast a packed discriminator learns to see missing modes, with G held fixed.

PacGAN's argument (Lin et al. 2018, Section 3) is about what D can tell apart: a G that covers only
some of the modes differs little from the data sample by sample, and much more pack by pack. This
script measures how much of that a D of the ``toy-grid-pacgan`` recipe actually learns, with no G in
the loop: the real points are the 25-Gaussian grid, the fake points a mixture of the same Gaussians on
only some of the modes (``--covered``, e.g. 20 and 10 of 25: a G collapsed that far), and each D is
trained alone, with the recipe's loss, on fresh batches of both.

Each D's accuracy on held-out packs (half real, half fake) is printed at a few steps beside the
Bayes-optimal accuracy for its pack size, computed from the two known densities: a pack of m points
is real when sum_i log p_data(x_i) / p_fake(x_i) > 0 (Monte Carlo over 20,000 packs of each). For
``covered`` = c of 25 it is (1 + 1 - (c/25)^m) / 2: 0.60 unpacked and 0.80 packing 4 at c = 20.

Rows: D unpacked; packing 4 with the packs concatenated at D's input (PacGAN's D); packing 4 with
``discriminator.pack_shared_layers=1`` (each sample through one tied first layer, then concatenated),
with 200 units a sample and with the recipe's 50.
Two optimiser settings: PacGAN's published one (Adam 1e-4, beta1 0.8, weights ~ N(0, 0.02^2)) and
gannet's fast toy setting (Adam 1e-3, beta1 0.5, PyTorch's default initialisation). Also printed: each
row's milliseconds per D step and their ratio to the unpacked D's, measured in the same run.

    python benchmarks/packed_discriminator.py [--steps 3000] [--covered 20 10] [--threads N]
        [--out runs/packed-discriminator] [--smoke]
"""

from __future__ import annotations

import argparse
import functools
import json
import time
from pathlib import Path

import numpy as np
import torch

from mode_collapse import UNPACKED  # a sibling script: benchmarks/ is on the import path

from gannet.config import load_config
from gannet.data.toy import TOYS, GaussianMixture
from gannet.hardware import cpu_capability
from gannet.io import atomic_write_text
from gannet.losses import discriminator_loss
from gannet.models import build_discriminator
from gannet.training.optim import make_optimizer

PACGAN_D = "discriminator.hidden=[200,200,200]"  # PacGAN's D: 3 x 200 maxout units
ROWS = {
    "unpacked": UNPACKED,
    "pack 4, concatenated": ["discriminator.pack_shared_layers=0", PACGAN_D],
    "pack 4, shared first layer": ["discriminator.pack_shared_layers=1", PACGAN_D],
    "pack 4, shared, 50 units a sample": ["discriminator.pack_shared_layers=1", "discriminator.hidden=[50,200,200]"],
}
SETTINGS = {
    "published": ["optim.lr=1e-4", "optim.beta1=0.8", "discriminator.init_std=0.02"],
    "fast": ["optim.lr=1e-3", "optim.beta1=0.5", "discriminator.init_std=null"],
}
PACKS_PER_BATCH = 100  # the recipe's batch: 100 packs of real points and 100 of fakes per step
HELD_OUT_PACKS = 2_000
SMOKE = ["discriminator.hidden=[8,8]", "discriminator.pieces=2"]


def partial_grid(covered: int) -> GaussianMixture:
    """The grid's Gaussians on its first ``covered`` modes only (row by row from the corner)."""
    grid = TOYS["toy-grid"]
    return GaussianMixture(grid.centres[:covered], grid.std)


def bayes_accuracy(real: GaussianMixture, fake: GaussianMixture, pack: int, packs: int, seed: int) -> float:
    """The best accuracy any D can reach on packs of ``pack`` points: the likelihood-ratio test, by Monte Carlo."""
    rng = np.random.default_rng(seed)

    def log_ratio(points: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):
            ratio = np.log(real.density(points)) - np.log(fake.density(points))
        return ratio.reshape(packs, pack).sum(1)

    real_right = (log_ratio(real.sample(packs * pack, rng)) > 0).mean()
    fake_right = (log_ratio(fake.sample(packs * pack, rng)) <= 0).mean()
    return float(real_right + fake_right) / 2


def train_alone(overrides: list[str], fake: GaussianMixture, steps: int, report_at: list[int], seed: int) -> dict:
    """Train one D on real-vs-``fake`` batches; its held-out accuracy at each ``report_at`` step and ms per step."""
    cfg = load_config("toy-grid-pacgan", overrides)
    D = build_discriminator(cfg, (2,), seed=seed)
    optimizer = make_optimizer(D.parameters(), cfg.optim, "d")
    pack = cfg.discriminator.pack
    real = TOYS["toy-grid"]
    rng = np.random.default_rng(seed + 1)
    held_real = torch.from_numpy(real.sample(HELD_OUT_PACKS * pack, np.random.default_rng(seed + 2)))
    held_fake = torch.from_numpy(fake.sample(HELD_OUT_PACKS * pack, np.random.default_rng(seed + 3)))
    accuracy, seconds = {}, 0.0
    for step in range(1, steps + 1):
        x_real = torch.from_numpy(real.sample(PACKS_PER_BATCH * pack, rng))
        x_fake = torch.from_numpy(fake.sample(PACKS_PER_BATCH * pack, rng))
        started = time.perf_counter()
        D.train()
        loss = discriminator_loss(D(x_real), D(x_fake))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step > 1:  # the first step pays for allocations
            seconds += time.perf_counter() - started
        if step in report_at:
            D.eval()
            with torch.no_grad():
                right = (D(held_real) > 0).float().mean() + (D(held_fake) <= 0).float().mean()
            accuracy[step] = float(right) / 2
    return {"pack": pack, "accuracy": accuracy, "ms_per_step": 1000 * seconds / max(steps - 1, 1)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--covered", type=int, nargs="+", default=[20, 10], help="modes of 25 the fakes cover")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--out", type=Path, default=Path("runs/packed-discriminator"))
    parser.add_argument("--smoke", action="store_true", help="tiny Ds for a few steps: a check that it runs")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    steps = 4 if args.smoke else args.steps
    report_at = sorted({s for s in (250, 500, 1000, 2000, steps) if s <= steps})
    print(f"CPU capability {cpu_capability()}, {torch.get_num_threads()} threads; D trained alone for {steps} steps "
          f"of {PACKS_PER_BATCH} real and {PACKS_PER_BATCH} fake packs")
    results = {"capability": cpu_capability(), "threads": torch.get_num_threads(), "steps": steps, "runs": []}
    lines = ["| fakes cover | setting | D | Bayes-optimal | " + " | ".join(f"step {s}" for s in report_at)
             + " | ms / step | time vs unpacked |", "|---" * (6 + len(report_at)) + "|"]
    # the bound depends on the fakes and the pack size only: once for each, not once per row and setting
    bound = functools.cache(lambda covered, pack: bayes_accuracy(TOYS["toy-grid"], partial_grid(covered), pack,
                                                                 20_000, args.seed))
    for covered in args.covered:
        fake = partial_grid(covered)
        for setting, setting_overrides in SETTINGS.items():
            baseline_ms = None
            for row, row_overrides in ROWS.items():
                run = train_alone([*setting_overrides, *row_overrides, *(SMOKE if args.smoke else [])], fake,
                                  steps, report_at, args.seed)
                run.update(covered=covered, setting=setting, row=row, bayes=bound(covered, run["pack"]))
                baseline_ms = baseline_ms or run["ms_per_step"]
                run["time_ratio"] = run["ms_per_step"] / baseline_ms
                results["runs"].append(run)
                line = (f"| {covered}/25 | {setting} | {row} | {run['bayes']:.3f} | "
                        + " | ".join(f"{run['accuracy'][s]:.3f}" for s in report_at)
                        + f" | {run['ms_per_step']:.2f} | {run['time_ratio']:.2f} |")
                lines.append(line)
                print(line, flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out / "packed_discriminator.md", "\n".join(lines) + "\n")
    atomic_write_text(args.out / "packed_discriminator.json", json.dumps(results, indent=1) + "\n")
    print(f"wrote {args.out / 'packed_discriminator.md'}")
    return results


if __name__ == "__main__":
    main()
