"""What a trained minibatch-standard-deviation D rejects fake batches by.

With ``discriminator.minibatch_std: true`` (Karras et al. 2018, Section 3) D's output layer reads its
last hidden features h(x) and one more number shared by the batch, the spread
s(B) = mean_j std_{x in B} h_j(x), through weights (w, v): a(x; B) = w . h(x) + v s(B) + b. A batch's
mean logit is then w . mean h + v s(B) + b, and the gap between a real batch's and a fake batch's is

    gap = w . (mean_real h - mean_fake h) + v (s_real - s_fake),

a per-sample part and a batch part. For each trained run this script draws ``--batches`` batches of
``--batch`` real points (the run's toy data) and as many of G's samples, in eval mode (no dropout),
and prints the mean spread of each, the weight v, the batch part v (s_real - s_fake) and the whole gap.
The remedy works as meant when fake batches are the narrower ones (s_fake < s_real, v > 0): D then asks
G to spread out. When D has learnt the opposite sign, it rejects fakes for being too spread out, and
its gradient pushes G to narrow, toward fewer modes.

    python benchmarks/minibatch_std_probe.py RUN [RUN ...] [--batches 50] [--batch 100] [--seed 0]
        [--out FILE.json]

``RUN`` is a run folder (its ``checkpoints/last.pt``) or a checkpoint file of a toy-data run trained
with ``discriminator.minibatch_std: true`` and an unpacked D.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from gannet.checkpoint import CheckpointError, load_checkpoint
from gannet.data.toy import TOYS, GaussianMixture
from gannet.errors import UsageError
from gannet.hardware import cpu_capability
from gannet.io import atomic_write_text
from gannet.models import networks_from_state
from gannet.noise import sample_noise
from gannet.sampling import checkpoint_path


def probe(D: torch.nn.Module, real_batches: list[torch.Tensor], fake_batches: list[torch.Tensor]) -> dict:
    """The batch spread of D's last hidden features on real and fake batches, D's weight on it, and the
    share of D's mean-logit gap between the two that the spread carries (the module docstring)."""
    weight = D.out.weight[0, -1].item()
    spread, logit = {}, {}
    with torch.no_grad():
        for kind, batches in (("real", real_batches), ("fake", fake_batches)):
            spread[kind] = float(np.mean([D.features(x).std(dim=0, unbiased=False).mean().item() for x in batches]))
            logit[kind] = float(np.mean([D(x).mean().item() for x in batches]))
    return {"spread_real": spread["real"], "spread_fake": spread["fake"], "weight": weight,
            "gap_from_spread": weight * (spread["real"] - spread["fake"]),
            "logit_real": logit["real"], "logit_fake": logit["fake"], "gap": logit["real"] - logit["fake"]}


def load_toy_run(run: str) -> tuple[Path, dict, object, torch.nn.Module, torch.nn.Module | None, GaussianMixture]:
    """A toy-data run's last checkpoint: its path, its state, config, G and D (eval mode) and its toy data."""
    path = checkpoint_path(run, "last")
    state = load_checkpoint(path)
    cfg, G, D = networks_from_state(state)
    if cfg.data.name not in TOYS:
        raise CheckpointError(f"{path}: expected a toy-data run, got data.name: {cfg.data.name} "
                              f"(one of {', '.join(sorted(TOYS))})")
    return path, state, cfg, G, D, TOYS[cfg.data.name]


def probe_run(run: str, batches: int, batch: int, seed: int) -> dict:
    path, _, cfg, G, D, toy = load_toy_run(run)
    if D is None or not getattr(D, "minibatch_std", False):
        raise CheckpointError(f"{path}: expected a run trained with discriminator.minibatch_std: true and "
                              "an unpacked D (the file has no such discriminator)")
    rng, generator = np.random.default_rng(seed), torch.Generator().manual_seed(seed)
    real = [torch.tensor(toy.sample(batch, rng), dtype=torch.float32) for _ in range(batches)]
    with torch.no_grad():
        fake = [G(sample_noise(cfg.noise.prior, batch, cfg.noise.dim, generator)).reshape(batch, -1)
                for _ in range(batches)]
    return {"run": run, "data": cfg.data.name, **probe(D, real, fake)}


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", metavar="RUN")
    parser.add_argument("--batches", type=int, default=50)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="also write the rows to this JSON file")
    args = parser.parse_args(argv)
    if args.batches < 1 or args.batch < 2:
        parser.error(f"--batches must be at least 1 and --batch at least 2, got {args.batches} and {args.batch}")
    print(f"CPU capability {cpu_capability()}, {torch.get_num_threads()} threads")
    rows = [probe_run(run, args.batches, args.batch, args.seed) for run in args.runs]
    print("| run | data | spread, real batches | spread, fake batches | weight on the spread | "
          "logit gap from the spread | whole logit gap, real - fake |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['run']} | {r['data']} | {r['spread_real']:.3f} | {r['spread_fake']:.3f} | {r['weight']:+.2f} | "
              f"{r['gap_from_spread']:+.2f} | {r['gap']:+.2f} |")
    if args.out:
        atomic_write_text(args.out, json.dumps(rows, indent=2) + "\n")
    return rows


if __name__ == "__main__":
    try:
        main()
    except (CheckpointError, UsageError, OSError) as err:
        sys.exit(f"error: {err}")
