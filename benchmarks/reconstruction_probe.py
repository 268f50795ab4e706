"""Where a reconstruction-regularised G puts each mode: in its range, and in its mass.

The reconstruction term (``loss.reconstruction``; Che et al. 2017, the mode-regularised GAN) trains an
encoder E and asks G(E(x)) = x for real x: every mode of the data must then be in G's range. It does
not say how much of the prior's mass G sends to each mode, which is what sampling draws. For each run
this script prints, per mode of its toy data:

- ``samples``: how many of ``--samples`` draws of the sampling G (eval mode, z ~ p_z) are high quality
  (within 3 standard deviations) and nearest the mode, as ``gannet eval --metric modes`` counts them;
- ``|E(x)|``: the mean norm of the encoder's codes of the mode's points (the prior's z has norm about
  sqrt(dim); a code far beyond it is one G is rarely sampled at);
- ``reconstruction``: the median distance |G(E(x)) - x| in units of the mode's standard deviation, with
  G's batch norm normalising by the batch's statistics as the training pass does (batches of
  ``--batch`` points drawn over all the modes), and with the running statistics the sampling G uses.

A mode whose points G reconstructs (a few standard deviations) but which gets no samples is in G's
range and not in its mass: the term did its part, and the collapse is in the prior's mapping.

    python benchmarks/reconstruction_probe.py RUN [RUN ...] [--samples 2500] [--batch 100] [--seed 0]
        [--out FILE.json]

``RUN`` is a run folder (its ``checkpoints/last.pt``) or a checkpoint file of a toy-data run trained
with ``loss.reconstruction`` > 0.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from minibatch_std_probe import load_toy_run  # a sibling script: benchmarks/ is on the import path

from gannet.checkpoint import CheckpointError
from gannet.data.toy import GaussianMixture
from gannet.errors import UsageError
from gannet.hardware import cpu_capability
from gannet.io import atomic_write_text
from gannet.metrics.modes import mode_coverage
from gannet.models.layers import running_statistics_kept
from gannet.noise import latent_size, sample_noise
from gannet.training.reconstruction import Encoder

BATCHES = 20  # reconstruction batches per run


def reconstruction_errors(G: torch.nn.Module, E: torch.nn.Module, x: torch.Tensor, batch: int,
                          batch_statistics: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per point of ``x`` (in batches of ``batch``): |G(E(x)) - x| and |E(x)|. With ``batch_statistics``
    G's batch norm normalises by each batch's own statistics, as the training pass does, and its running
    statistics are left as they are."""
    errors, norms = [], []
    was_training = G.training
    G.train(batch_statistics)
    try:
        with torch.no_grad(), running_statistics_kept(G):
            for xb in x.split(batch):
                codes = E(xb)
                errors.append((G(codes).reshape(len(xb), -1) - xb).norm(dim=1))
                norms.append(codes.norm(dim=1))
    finally:
        G.train(was_training)
    return torch.cat(errors).numpy(), torch.cat(norms).numpy()


def probe_modes(G: torch.nn.Module, E: torch.nn.Module, toy: GaussianMixture, noise, samples: int, batch: int,
                seed: int) -> list[dict]:
    """One row per mode of ``toy``: its high-quality samples, its codes' norm, its reconstruction errors."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        z = sample_noise(noise.prior, samples, noise.dim, generator)
        drawn = G.eval()(z).reshape(samples, -1).numpy()
    counts = mode_coverage(drawn, toy.centres, toy.std)["per_mode_counts"]
    rng = np.random.default_rng(seed)
    modes = rng.integers(0, len(toy.centres), batch * BATCHES)
    x = torch.tensor(toy.centres[modes] + toy.std * rng.standard_normal((len(modes), toy.dim)), dtype=torch.float32)
    batch_error, code_norm = reconstruction_errors(G, E, x, batch, batch_statistics=True)
    running_error, _ = reconstruction_errors(G, E, x, batch, batch_statistics=False)
    return [{"mode": k, "samples": int(counts[k]), "code_norm": float(code_norm[modes == k].mean()),
             "reconstruction_batch_stats": float(np.median(batch_error[modes == k]) / toy.std),
             "reconstruction_running_stats": float(np.median(running_error[modes == k]) / toy.std)}
            for k in range(len(toy.centres)) if (modes == k).any()]


def probe_run(run: str, samples: int, batch: int, seed: int) -> dict:
    path, state, cfg, G, _, toy = load_toy_run(run)
    if not state.get("encoder") or cfg.loss.reconstruction <= 0:
        raise CheckpointError(f"{path}: expected a run trained with loss.reconstruction > 0 (the file has "
                              "no encoder)")
    E = Encoder((toy.dim,), cfg.loss.encoder_hidden, latent_size(cfg.noise))
    E.load_state_dict(state["encoder"])
    modes = probe_modes(G, E.eval(), toy, cfg.noise, samples, batch, seed)
    return {"run": run, "data": cfg.data.name, "noise_dim": cfg.noise.dim, "modes": modes}


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", metavar="RUN")
    parser.add_argument("--samples", type=int, default=2500)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="also write the rows to this JSON file")
    args = parser.parse_args(argv)
    if args.samples < 1 or args.batch < 2:
        parser.error(f"--samples must be at least 1 and --batch at least 2, got {args.samples} and {args.batch}")
    print(f"CPU capability {cpu_capability()}, {torch.get_num_threads()} threads")
    runs = [probe_run(run, args.samples, args.batch, args.seed) for run in args.runs]
    for r in runs:
        print(f"\n{r['run']} ({r['data']}, {r['noise_dim']}-d noise)\n")
        print("| mode | samples | mean abs E(x) | reconstruction / std, batch statistics | "
              "reconstruction / std, running statistics |")
        print("|---|---|---|---|---|")
        for m in r["modes"]:
            print(f"| {m['mode']} | {m['samples']} | {m['code_norm']:.2f} | {m['reconstruction_batch_stats']:.1f} | "
                  f"{m['reconstruction_running_stats']:.1f} |")
    if args.out:
        atomic_write_text(args.out, json.dumps(runs, indent=2) + "\n")
    return runs


if __name__ == "__main__":
    try:
        main()
    except (CheckpointError, UsageError, OSError) as err:
        sys.exit(f"error: {err}")
