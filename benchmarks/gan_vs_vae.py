"""GAN against VAE on one dataset, every number measured under one protocol.

    GANNET_DATA=../shared/data python benchmarks/gan_vs_vae.py --gan results/mnist-2014-g.pt --vae runs/vae-mnist \\
        [--gan-generator average|raw] [--samples 10000] [--out runs/gan-vs-vae]

For each run (its selected checkpoint: best by validation, else last): the authors' Parzen protocol on
the test set; the classifier metrics of ``gannet eval --metric classifier`` (Frechet distance,
precision/recall, density/coverage, classes covered, classifier score); the samples' sharpness (mean
binary entropy of a pixel, in nats: 0 for pure black and white, log 2 for grey 0.5; and the mean
squared difference of neighbouring pixels); the training time its metrics logged; and, for the VAE,
its ELBO and importance-weighted bound on log p(x) (a GAN has none). The real test images are scored
the same way as a reference. Writes ``OUT/gan_vs_vae.md`` and ``OUT/gan_vs_vae.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from gannet.checkpoint import GENERATORS


def sharpness(images: np.ndarray) -> dict:
    """Mean binary entropy of a pixel (nats) and mean squared difference of horizontal and vertical neighbours."""
    x = np.clip(images.reshape(len(images), 28, 28).astype(np.float64), 1e-12, 1 - 1e-12)
    entropy = -(x * np.log(x) + (1 - x) * np.log1p(-x)).mean()
    edges = (np.square(np.diff(x, axis=1)).mean() + np.square(np.diff(x, axis=2)).mean()) / 2
    return {"pixel_entropy": float(entropy), "neighbour_sq_diff": float(edges)}


def score_run(folder: Path, generator: str, n_samples: int) -> dict:
    from gannet.checkpoint import load_checkpoint, with_generator
    from gannet.evaluation import classifier_eval, elbo_eval, parzen_eval
    from gannet.experiments.table1 import logged_training_seconds
    from gannet.training.run_dir import RunDir
    from gannet.sampling import generated_samples

    if folder.is_file():  # a checkpoint or generator-only file (gannet export, gannet average)
        checkpoint, run = folder, None
    else:
        run = RunDir(folder)
        checkpoint = run.best if run.best.exists() else run.last
    state = with_generator(load_checkpoint(checkpoint), generator, str(checkpoint))
    record = {"run": str(folder), "checkpoint": str(checkpoint), "step": int(state["step"]), "generator": generator,
              "parzen": parzen_eval(checkpoint, n_samples, generator=generator),
              "classifier": classifier_eval(checkpoint, n_samples, generator=generator),
              "sharpness": sharpness(generated_samples(state, n_samples, seed=0)),
              "train_seconds": logged_training_seconds(folder) if run else 0.0}
    if state["config"]["train"]["update"] == "vae":
        record["elbo"] = elbo_eval(checkpoint)
    return record


def real_reference(folder: Path) -> dict:
    from gannet.data import load_dataset
    from gannet.sampling import state_and_config

    _, cfg = state_and_config(folder / "checkpoints" / "last.pt" if folder.is_dir() else folder)
    return {"sharpness": sharpness(load_dataset(cfg.data, cfg.seed).test)}


def markdown(gan: dict, vae: dict, real: dict) -> str:
    def row(name, r):
        p, c, s = r["parzen"], r["classifier"]["generated"], r["sharpness"]
        minutes = f"{r['train_seconds'] / 60:.0f} min" if r["train_seconds"] else "-"
        return (f"| {name} | {p['mean']:.1f} +- {p['standard_error']:.1f} | {c['frechet_distance']:.1f} | "
                f"{c['precision']:.3f} | {c['recall']:.3f} | {c['density']:.3f} | {c['coverage']:.3f} | "
                f"{c['classes_covered']}/{c['classes']} | {c['classifier_score']:.2f} | {s['pixel_entropy']:.3f} | "
                f"{s['neighbour_sq_diff']:.4f} | {r['step']:,} | {minutes} |")

    ref = gan["classifier"].get("real_reference", {})
    lines = [("| model | Parzen LL (nats) | FD | precision | recall | density | coverage | classes | "
             "classifier score | pixel entropy (nats) | neighbour sq. diff. | steps | time of the steps |"),
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
             row("GAN", gan), row("VAE", vae)]
    if ref:
        lines.append(f"| real validation images | - | {ref['frechet_distance']:.1f} | {ref['precision']:.3f} | "
                     f"{ref['recall']:.3f} | {ref['density']:.3f} | {ref['coverage']:.3f} | "
                     f"{ref['classes_covered']}/{ref['classes']} | {ref['classifier_score']:.2f} | "
                     f"{real['sharpness']['pixel_entropy']:.3f} (test) | "
                     f"{real['sharpness']['neighbour_sq_diff']:.4f} (test) | - | - |")
    e = vae["elbo"]
    lines += ["", (f"VAE bounds on log p(x) of the test images (Bernoulli decoder): ELBO {e['elbo']:.1f} +- "
              f"{e['elbo_se']:.1f}, importance-weighted (100 draws) {e['iwae']:.1f} +- {e['iwae_se']:.1f} nats. "
              "The GAN has no such bound.")]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gan", required=True, help="a GAN run folder (its best checkpoint, else its last) or a "
                        "checkpoint file, e.g. results/mnist-2014-g.pt")
    parser.add_argument("--vae", required=True, help="a VAE run folder (the vae-mnist recipe's)")
    parser.add_argument("--gan-generator", choices=list(GENERATORS), default="auto")
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--out", default="runs/gan-vs-vae")
    args = parser.parse_args(argv)
    from gannet.hardware import describe_cpu
    from gannet.io import atomic_write_text, json_default

    print(describe_cpu(), flush=True)

    started = time.perf_counter()
    gan = score_run(Path(args.gan), args.gan_generator, args.samples)
    vae = score_run(Path(args.vae), "auto", args.samples)
    real = real_reference(Path(args.gan))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "gan_vs_vae.json", json.dumps({"gan": gan, "vae": vae, "real": real}, indent=2,
                                                           default=json_default) + "\n")
    table = markdown(gan, vae, real)
    atomic_write_text(out / "gan_vs_vae.md", table)
    print(table)
    print(f"wall-clock: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
