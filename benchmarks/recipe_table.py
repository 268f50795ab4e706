"""Every image recipe on MNIST and Fashion-MNIST, trained at its own length and scored under one protocol.

    GANNET_DATA=../shared/data python benchmarks/recipe_table.py --out runs/recipes [--only dcgan ...] \\
        [--samples 10000] [--smoke]

For each (model, dataset) of the plan: train ``gannet train RECIPE data.name=DATASET`` into
``OUT/MODEL-DATASET`` unless a finished run is already there (a run of the same plan from an earlier
call; link one in to reuse it), then score G's own weights at its last checkpoint (no selection on validation and no averaging, so
every row is scored the same way; the scores are kept in the run folder and reused):

- the authors' Parzen protocol on the test set (sigma chosen on validation images);
- the classifier metrics of ``gannet eval --metric classifier`` (Frechet distance, precision, recall,
  coverage, classes covered);
- InfoGAN runs: the categorical code as a classifier of the test images, after matching;
- VAE runs: the ELBO and the importance-weighted bound;
- the time the training steps took here, from the run's own log (steps only, without monitoring and
  checkpoints), and the images per second;
- the classifier metrics of the recipe's sampling G too (its moving average, where the recipe keeps
  one: what ``gannet sample`` and ``gannet eval`` use by default), in a second table.

``--smoke`` trains every row for a few steps at small width into OUT/smoke: a check that the plan
runs, not a measurement (its tables go to OUT/smoke). Writes ``OUT/recipe_table.md`` and
``OUT/recipe_table.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

DATASETS = ("mnist", "fashion-mnist")
PROTOCOL = "raw G and sampling G, last checkpoint"  # what a cached score was computed on; a change here rescores
# model -> (recipe, overrides); every recipe trains at its own length (train.steps in the recipe)
PLAN = {
    "mnist-2014": ("mnist-2014", ["train.steps=30000"]),
    "dcgan": ("dcgan-mnist", []),
    "wgan-gp": ("wgan-gp-mnist", []),
    "infogan": ("infogan-mnist", []),
    "vae": ("vae-mnist", []),
}
SMOKE = ["train.steps=20", "generator.width=8", "discriminator.width=8", "generator.hidden=[32,32]",
         "discriminator.hidden=[16,16]", "monitor.enabled=false", "train.checkpoint_every=20",
         "train.sample_every=20", "train.log_every=10", "train.tensorboard=false", "data.valid_size=100"]


def finished(folder: Path) -> bool:
    from gannet.checkpoint import load_checkpoint
    from gannet.config import load_config
    from gannet.training.run_dir import RunDir

    run = RunDir(folder)
    if not run.last.exists():
        return False
    return load_checkpoint(run.last)["step"] >= load_config(str(run.config)).train.steps


def train(recipe: str, overrides: list[str], folder: Path) -> None:
    from gannet.config import load_config
    from gannet.training.trainer import Trainer

    cfg = load_config(recipe, [*overrides, "train.progress=false"])
    resume = (folder / "checkpoints" / "last.pt").exists()
    Trainer(cfg, folder, resume=resume).run()


def score(folder: Path, n_samples: int) -> dict:
    from gannet.checkpoint import load_checkpoint
    from gannet.config import Config
    from gannet.evaluation import classifier_eval, codes_eval, elbo_eval, parzen_eval
    from gannet.experiments.table1 import logged_training_seconds
    from gannet.training.run_dir import RunDir

    last = RunDir(folder).last
    state = load_checkpoint(last)
    cfg = Config.model_validate(state["config"])  # keys newer than the run take their defaults
    record = {"run": str(folder), "step": int(state["step"]), "train_seconds": logged_training_seconds(folder),
              "parzen": parzen_eval(last, n_samples, generator="raw"),
              "classifier": classifier_eval(last, n_samples, generator="raw")}
    record["sampling_generator"] = "moving average" if cfg.train.ema else "G's own weights"
    record["sampling_classifier"] = (classifier_eval(last, n_samples, generator="auto") if cfg.train.ema
                                     else record["classifier"])
    record["images"] = record["step"] * cfg.train.batch_size * cfg.train.k
    if cfg.loss.info > 0:
        record["codes"] = codes_eval(last)
    if cfg.train.update == "vae":
        record["elbo"] = elbo_eval(last)
    return record


def cached_score(folder: Path, n_samples: int) -> dict:
    """:func:`score`, kept in ``FOLDER/recipe_score.json`` and reused while the run's last step and the
    number of samples are the same."""
    from gannet.checkpoint import load_checkpoint
    from gannet.io import atomic_write_text, json_default
    from gannet.training.run_dir import RunDir

    path = folder / "recipe_score.json"
    step = int(load_checkpoint(RunDir(folder).last)["step"])
    if path.exists():
        record = json.loads(path.read_text())
        if record["step"] == step and record.get("samples") == n_samples and record.get("protocol") == PROTOCOL:
            return record
    print(f"scoring {folder}", flush=True)
    record = {**score(folder, n_samples), "samples": n_samples, "protocol": PROTOCOL}
    atomic_write_text(path, json.dumps(record, indent=2, default=json_default) + "\n")
    return record


def markdown(results: dict) -> str:
    header = ("| model | data | steps | Parzen LL (nats) | FD | precision | recall | coverage | classes | "
              "time of the steps | images/s |")
    lines = [header, "|---|---|---|---|---|---|---|---|---|---|---|"]
    notes = []
    for key, r in results.items():
        model, dataset = key.split("@")
        p, c = r["parzen"], r["classifier"]["generated"]
        seconds = r["train_seconds"]
        rate = r["images"] / seconds if seconds else float("nan")
        lines.append(f"| {model} | {dataset} | {r['step']:,} | {p['mean']:.1f} +- {p['standard_error']:.1f} | "
                     f"{c['frechet_distance']:.1f} | {c['precision']:.3f} | {c['recall']:.3f} | "
                     f"{c['coverage']:.3f} | {c['classes_covered']}/{c['classes']} | {seconds / 60:.1f} min | "
                     f"{rate:,.0f} |")
        if "codes" in r:
            notes.append(f"- {model} on {dataset}: the categorical code classifies {100 * r['codes']['accuracy']:.1f}% "
                         "of the test images after matching codes to classes.")
        if "elbo" in r:
            e = r["elbo"]
            notes.append(f"- {model} on {dataset}: ELBO {e['elbo']:.1f} +- {e['elbo_se']:.1f}, importance-weighted "
                         f"bound {e['iwae']:.1f} +- {e['iwae_se']:.1f} nats (test).")
    sampling = ["| model | data | sampling G | FD | precision | recall | coverage | classes |",
                "|---|---|---|---|---|---|---|---|"]
    for key, r in results.items():
        model, dataset = key.split("@")
        c = r["sampling_classifier"]["generated"]
        sampling.append(f"| {model} | {dataset} | {r['sampling_generator']} | {c['frechet_distance']:.1f} | "
                        f"{c['precision']:.3f} | {c['recall']:.3f} | {c['coverage']:.3f} | {c['classes_covered']}/{c['classes']} |")
    return ("\n".join(lines) + "\n" + ("\n" + "\n".join(notes) + "\n" if notes else "") + "\n" +
            "\n".join(sampling) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="runs/recipes")
    parser.add_argument("--only", nargs="+", choices=list(PLAN), help="models to run (default: all)")
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=list(DATASETS))
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--smoke", action="store_true", help="a few steps at small width: checks the plan runs")
    parser.add_argument("--score-only", action="store_true", help="score the runs already in --out; train none")
    args = parser.parse_args(argv)
    from gannet.hardware import describe_cpu
    from gannet.io import atomic_write_text, json_default

    print(describe_cpu(), flush=True)

    started, out = time.perf_counter(), Path(args.out) / ("smoke" if args.smoke else "")  # never mixed up
    out.mkdir(parents=True, exist_ok=True)
    results = {}
    for model in args.only or list(PLAN):
        recipe, overrides = PLAN[model]
        for dataset in args.datasets:
            folder = out / f"{model}-{dataset}"
            run_overrides = [*overrides, f"data.name={dataset}", *(SMOKE if args.smoke else [])]
            if not args.score_only and not finished(folder):
                print(f"training {model} on {dataset} into {folder}", flush=True)
                train(recipe, run_overrides, folder)
            if finished(folder):
                results[f"{model}@{dataset}"] = cached_score(folder, 500 if args.smoke else args.samples)
    atomic_write_text(out / "recipe_table.json", json.dumps(results, indent=2, default=json_default) + "\n")
    table = markdown(results)
    atomic_write_text(out / "recipe_table.md", table)
    print(table)
    print(f"wall-clock: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
