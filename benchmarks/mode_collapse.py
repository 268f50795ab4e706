"""Mode collapse on the 2-D toys: every remedy, several seeds, the published protocol, one table.

    python benchmarks/mode_collapse.py --out runs/mode-collapse [--seeds 5] [--only gan pacgan4 ...]
        [--toys grid ring] [--jobs 2] [--steps N] [--smoke] [--report] [--timing STEPS]

Each row of :data:`ROWS` is a recipe and a few overrides, trained on the 25-Gaussian grid and on the
8-Gaussian ring with seeds 0..S-1 into ``OUT/TOY/ROW/seed-S`` (``gannet train``, one process per run,
``--jobs`` at a time, each on ``cores / jobs`` threads; a finished run is reused, a stopped one resumed).
Every run is scored by ``gannet eval --metric modes`` on its last checkpoint: 2,500 samples; a sample
is high quality within 3 standard deviations of its nearest mode; modes covered by VEEGAN's and PacGAN's
rule (one high-quality sample) and by gannet's (20); the reverse KL of the mode histogram.

Writes ``OUT/mode_collapse.md`` (mean +- standard error over the seeds per column, the training
wall-clock per run, and PacGAN's published numbers beside them), ``OUT/mode_collapse.json`` (every run)
and ``OUT/figures/TOY-ROW.png``: the samples of seed 0 over the modes. ``--smoke`` trains every row
for a few steps at small width into ``OUT/smoke``: a check that the plan runs, not a measurement.
``--report`` trains nothing: it writes the table and figures from the plan's runs that are finished.

Every scored run is also kept as a small record, ``RECORD/TOY/ROW/seed-S.json`` (``--record``, default
``results/mode-collapse``, a folder of the repository; under ``OUT`` with ``--smoke``): its scores, its
training seconds, the machine's CPU and the run's resolved config. A run whose folder is gone (another
machine, a clean checkout) is taken from its record when the record's config is the one the plan would
train now, so the table grows across machines and sessions instead of being retrained; a changed recipe
or override makes the record stale, and the run is trained again. A finished run with a record is taken
from it too, not scored again, so a later invocation on other threads or jobs does not restate how it
was trained.

``--timing STEPS`` times each row instead: seed 0 trained STEPS steps alone, one row after another, on
``--threads`` threads (default: every core) into ``OUT/timing/TOY/ROW``; the seconds of its steps (the
run's own log, without checkpoints and monitoring) per step, times the row's full length, is the row's
training time alone, written to ``OUT/timing.json`` and shown in the table beside the wall-clock of the
runs (which, two at a time on one thread each, share the cores); ``RECORD/timing.json`` keeps a copy.
Nothing else may run meanwhile.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from recipe_table import finished  # a sibling script: benchmarks/ is on the import path

TOYS = {"grid": "toy-grid", "ring": "toy-ring-pacgan"}
# row -> (description, recipe on the grid, recipe on the ring, overrides on both)
# toy-*-pacgan's optimiser settings (fitted to 10 minutes) with PacGAN's unpacked D (3 x 200 maxout units)
UNPACKED = ["discriminator.pack=1", "discriminator.pack_shared_layers=0", "discriminator.hidden=[200,200,200]",
            "train.batch_size=100"]
ROWS = {
    "gan": ("GAN, PacGAN's published setting", "toy-grid-gan", "toy-ring-gan", []),
    "gan-fast": ("GAN at toy-*-pacgan's settings, unpacked", "toy-grid-pacgan", "toy-ring-pacgan", UNPACKED),
    "pacgan4": ("PacGAN, packing 4", "toy-grid-pacgan", "toy-ring-pacgan", []),
    "pacgan2": ("PacGAN, packing 2", "toy-grid-pacgan", "toy-ring-pacgan",
                # 100 units on each sample of a pair: the pack's second layer reads 200, as packing 4's
                ["discriminator.pack=2", "discriminator.hidden=[100,200,200]", "train.batch_size=200"]),
    "minibatch-std": ("minibatch standard deviation in D, unpacked, toy-*-pacgan's settings", "toy-grid-pacgan",
                      "toy-ring-pacgan", [*UNPACKED, "discriminator.minibatch_std=true"]),
    "reconstruction": ("reconstruction term (mode-regularised GAN), unpacked, toy-*-pacgan's settings",
                       "toy-grid-pacgan", "toy-ring-pacgan", [*UNPACKED, "loss.reconstruction=1"]),
    "wgan-gp": ("WGAN-GP, its authors' toy setting", "toy-grid-wgan-gp", "toy-grid-wgan-gp",
                []),  # the ring row overrides data.name below
}
# PacGAN (Lin et al. 2018), Table 1: mean +- standard error over 10 trials (modes, high quality %, reverse KL)
PUBLISHED = {
    ("grid", "gan"): "17.3 +- 0.8, 94.8 +- 0.7 %, 0.70 +- 0.07",
    ("grid", "pacgan2"): "23.8 +- 0.7, 91.3 +- 0.8 %, 0.13 +- 0.04",
    ("grid", "pacgan4"): "24.8 +- 0.2, 93.6 +- 0.6 %, 0.04 +- 0.01",
    ("ring", "gan"): "6.3 +- 0.5, 98.2 +- 0.2 %, 0.45 +- 0.09",
    ("ring", "pacgan2"): "7.9 +- 0.1, 95.6 +- 2.0 %, 0.07 +- 0.03",
    ("ring", "pacgan4"): "7.8 +- 0.1, 95.9 +- 1.4 %, 0.07 +- 0.02",
}
SMOKE = ["train.steps=20", "generator.hidden=[16,16]", "discriminator.hidden=[8,8]", "loss.encoder_hidden=[8]",
         "train.log_every=10", "train.checkpoint_every=20", "train.sample_every=20", "monitor.metrics=[]"]


def run_overrides(row: str, toy: str, seed: int, steps: int | None, smoke: bool) -> tuple[str, list[str]]:
    """The recipe and the overrides of one run."""
    _, grid_recipe, ring_recipe, overrides = ROWS[row]
    recipe = grid_recipe if toy == "grid" else ring_recipe
    extra = [f"data.name={TOYS[toy]}"] if recipe.startswith("toy-grid") and toy == "ring" else []
    return recipe, [*overrides, *extra, f"seed={seed}", "train.progress=false", "train.tensorboard=false",
                    *([f"train.steps={steps}"] if steps else []), *(SMOKE if smoke else [])]


def train(recipe: str, overrides: list[str], folder: Path, threads: int) -> float:
    """``gannet train`` in its own process on ``threads`` threads; its wall-clock seconds (kept in the folder)."""
    clock = folder / "train_seconds.json"
    spent = json.loads(clock.read_text())["seconds"] if clock.exists() else 0.0
    if finished(folder):
        return spent
    resume = ["--resume"] if (folder / "checkpoints" / "last.pt").exists() else []
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "gannet", "train", recipe, *overrides, "--out", str(folder),
                             *resume], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"gannet train {recipe} {' '.join(overrides)} --out {folder} failed:\n{result.stderr}")
    spent += time.perf_counter() - started
    folder.mkdir(parents=True, exist_ok=True)
    clock.write_text(json.dumps({"seconds": spent}) + "\n")
    return spent


def resolved_config(recipe: str, overrides: list[str]) -> dict:
    """The config a run of ``recipe`` with ``overrides`` trains, as plain data (what a record is matched on)."""
    from gannet.config import load_config

    return json.loads(json.dumps(load_config(recipe, overrides).to_dict()))  # as a record reads it back


def run_folder(out: Path, toy: str, row: str, seed: int) -> Path:
    return out / toy / row / f"seed-{seed}"


def stale_folder_problem(folder: Path, config: dict) -> str | None:
    """Why the run in ``folder`` is not the run the plan trains (the first keys that differ), or None when
    the folder holds no run or that run."""
    from gannet.config import flatten

    if not (folder / "config.yaml").exists():
        return None
    kept = flatten(resolved_config(str(folder / "config.yaml"), []))  # read back as the plan's configs are
    planned = flatten(config)
    differ = [key for key in sorted(set(kept) | set(planned)) if kept.get(key) != planned.get(key)]
    if not differ:
        return None
    shown = ", ".join(f"{key}: {kept.get(key)!r} there, {planned.get(key)!r} in the plan" for key in differ[:3])
    return (f"{folder} holds a run of another config ({shown}{', ...' if len(differ) > 3 else ''}); "
            "move it away or pick another --out")


def record_path(record: Path, toy: str, row: str, seed: int) -> Path:
    return record / toy / row / f"seed-{seed}.json"


def read_record(path: Path, config: dict) -> dict | None:
    """The run kept at ``path`` if it was trained with ``config``; None when there is none or it is stale."""
    if not path.exists():
        return None
    kept = json.loads(path.read_text())
    return kept["run"] if kept.get("config") == config else None


def score(folder: Path) -> dict:
    from gannet.evaluation import modes_eval
    from gannet.training.run_dir import RunDir

    record = modes_eval(RunDir(folder).last, 2_500, seed=0)
    return {k: record[k] for k in ("modes_covered_published", "modes_covered", "modes", "high_quality_fraction",
                                   "reverse_kl", "histogram_jsd", "per_mode_counts")}


def time_alone(recipe: str, overrides: list[str], folder: Path, threads: int, steps: int) -> dict:
    """Seconds per step of one row trained ``steps`` steps from scratch alone on ``threads`` threads, from the
    run's own log (the first log interval, warm-up, left out), and the row's full length in steps."""
    import shutil

    from gannet.config import load_config
    from gannet.training.run_dir import RunDir, read_metrics
    from gannet.training.trainer import minibatches_per_step

    shutil.rmtree(folder, ignore_errors=True)
    every = max(1, steps // 5)
    train(recipe, [*overrides, f"train.steps={steps}", f"train.log_every={every}", f"train.checkpoint_every={steps}",
                   f"train.sample_every={steps}", "monitor.enabled=false"], folder, threads)
    cfg = load_config(str(RunDir(folder).config))
    logged = [r for r in read_metrics(RunDir(folder).metrics) if "images_per_s" in r][1:]
    per_step = statistics.median(cfg.train.batch_size * minibatches_per_step(cfg) / r["images_per_s"] for r in logged)
    full = load_config(recipe).train.steps
    return {"seconds_per_step": per_step, "steps": full, "projected_seconds": per_step * full, "threads": threads}


def threads_text(n: int) -> str:
    return f"{n} thread" + ("s" if n != 1 else "")


def mean_se(values: list[float]) -> tuple[float, float]:
    if not values:
        return float("nan"), float("nan")
    se = statistics.stdev(values) / len(values) ** 0.5 if len(values) > 1 else float("nan")
    return statistics.fmean(values), se


def scatter(folder: Path, toy: str, title: str, path: Path) -> None:
    """Seed 0's 2,500 samples (the ones scored) over the modes' centres."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gannet.checkpoint import load_checkpoint
    from gannet.data.toy import TOYS as MIXTURES
    from gannet.training.run_dir import RunDir
    from gannet.sampling import generated_samples

    samples = generated_samples(load_checkpoint(RunDir(folder).last), 2_500, seed=0).reshape(-1, 2)
    centres = MIXTURES[TOYS[toy]].centres
    reach = 1.5 * abs(centres).max()
    fig, ax = plt.subplots(figsize=(3.2, 3.2), dpi=110)
    ax.scatter(samples[:, 0], samples[:, 1], s=2, alpha=0.4, color="tab:blue", linewidths=0)
    ax.scatter(centres[:, 0], centres[:, 1], s=18, marker="+", color="tab:red")
    ax.set(xlim=(-reach, reach), ylim=(-reach, reach), aspect="equal", title=textwrap.fill(title, 44))
    ax.title.set_fontsize(8)
    ax.tick_params(labelsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def column(runs: list[dict], key: str, scale: float = 1.0, digits: int = 1) -> str:
    """Mean +- standard error of one score over the runs; the count when some runs have none (a reverse KL
    without a high-quality sample)."""
    values = [r[key] * scale for r in runs if r[key] is not None]
    m, se = mean_se(values)
    text = f"{m:.{digits}f} +- {se:.{digits}f}" if len(values) > 1 else f"{m:.{digits}f} (one run)"
    return text if len(values) == len(runs) else f"{text} ({len(values)} runs)"


def markdown(results: dict, timing: dict) -> str:
    """The table; ``timing`` maps "toy/row" to :func:`time_alone`'s record (rows without one get a blank)."""
    lines = [f"| toy | row | seeds | modes, one sample (PacGAN's rule) | modes, 20 samples | high-quality samples | "
             f"reverse KL (nats) | wall-clock per run, two at a time | training alone (projected) | "
             f"PacGAN Table 1 (modes, high quality, reverse KL) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for (toy, row), runs in results.items():
        minutes = statistics.fmean(r["train_seconds"] for r in runs) / 60
        seeds = ", ".join(str(r["seed"]) for r in runs)
        alone = timing.get(f"{toy}/{row}")
        alone_text = (f"{alone['projected_seconds'] / 60:.1f} min ({alone['seconds_per_step'] * 1e3:.1f} ms/step, "
                      f"{threads_text(alone['threads'])})" if alone else "")
        lines.append(f"| {toy} | {ROWS[row][0]} | {seeds} | {column(runs, 'modes_covered_published')} | "
                     f"{column(runs, 'modes_covered')} | {column(runs, 'high_quality_fraction', 100)} % | "
                     f"{column(runs, 'reverse_kl', digits=2)} | {minutes:.1f} min | {alone_text} | "
                     f"{PUBLISHED.get((toy, row), '')} |")
    return "\n".join(lines) + "\n\nMean +- standard error over each row's seeds.\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="runs/mode-collapse")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--only", nargs="+", choices=list(ROWS), help="rows to run (default: all)")
    parser.add_argument("--toys", nargs="+", choices=list(TOYS), default=list(TOYS))
    parser.add_argument("--jobs", type=int, default=2, help="trainings at a time (each on cores / jobs threads)")
    parser.add_argument("--threads", type=int, help="threads per training (default: cores / jobs)")
    parser.add_argument("--steps", type=int, help="train every run this many steps instead of its recipe's")
    parser.add_argument("--smoke", action="store_true", help="a few steps at small width: checks the plan runs")
    parser.add_argument("--report", action="store_true", help="train nothing: table and figures of the finished runs")
    parser.add_argument("--record", default="results/mode-collapse",
                        help="folder of the runs' records, kept across machines (default: results/mode-collapse)")
    parser.add_argument("--timing", type=int, metavar="STEPS",
                        help="time each row's seed 0 for STEPS steps alone instead (OUT/timing.json)")
    args = parser.parse_args(argv)
    from gannet.hardware import cpu_features, describe_cpu
    from gannet.io import atomic_write_text

    print(describe_cpu(), flush=True)
    out = Path(args.out) / ("smoke" if args.smoke else "")
    threads = args.threads or max(1, (os.cpu_count() or 1) // args.jobs)
    record = out / "record" if args.smoke else Path(args.record)
    plan = [(toy, row, seed) for toy in args.toys for row in (args.only or list(ROWS)) for seed in range(args.seeds)]
    timing_file = out / "timing.json"
    if not timing_file.exists() and (record / "timing.json").exists():
        timing_file = record / "timing.json"
    timing = json.loads(timing_file.read_text()) if timing_file.exists() else {}
    if args.timing:
        for toy, row in dict.fromkeys((toy, row) for toy, row, _ in plan):
            recipe, overrides = run_overrides(row, toy, 0, None, args.smoke)
            timing[f"{toy}/{row}"] = alone = time_alone(recipe, overrides, out / "timing" / toy / row,
                                                        args.threads or os.cpu_count() or 1, args.timing)
            print(f"{toy} {row}: {alone['seconds_per_step'] * 1e3:.2f} ms/step alone on {threads_text(alone['threads'])}, "
                  f"{alone['steps']} steps: {alone['projected_seconds'] / 60:.1f} min", flush=True)
            for path in (out / "timing.json", record / "timing.json"):
                atomic_write_text(path, json.dumps(timing, indent=2) + "\n")
        return
    commands = {(toy, row, seed): run_overrides(row, toy, seed, args.steps, args.smoke) for toy, row, seed in plan}
    configs = {item: resolved_config(*commands[item]) for item in plan}
    # a finished folder is reused as it stands: one trained with another recipe or overrides must not be
    for item in plan:
        if problem := stale_folder_problem(run_folder(out, *item), configs[item]):
            raise SystemExit(f"error: {problem}")
    kept = {item: read_record(record_path(record, *item), configs[item]) for item in plan}
    trained_here = {item for item in plan if finished(run_folder(out, *item))}  # the rest may be records
    if args.report:
        plan = [item for item in plan if item in trained_here or kept[item] is not None]

    def run_one(item):
        folder = run_folder(out, *item)
        if kept[item] is not None:  # scored when it was trained: re-scoring would restate its threads and jobs
            print(f"kept {record_path(record, *item)} (trained {kept[item]['train_seconds']:.0f} s)", flush=True)
            return item, kept[item]
        seed = item[2]
        seconds = train(*commands[item], folder, threads)
        trained_here.add(item)
        print(f"trained {folder} ({seconds:.0f} s)", flush=True)
        run = {"seed": seed, "train_seconds": seconds, **score(folder)}
        atomic_write_text(record_path(record, *item), json.dumps(
            {"run": run, "cpu": cpu_features(), "threads": threads, "jobs": args.jobs, "config": configs[item]},
            indent=2) + "\n")
        return item, run

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        done = dict(pool.map(run_one, plan))
    results: dict = {}
    for toy, row, seed in plan:
        results.setdefault((toy, row), []).append(done[(toy, row, seed)])
    for (toy, row), runs in results.items():
        drawn = [r["seed"] for r in runs if (toy, row, r["seed"]) in trained_here]
        if not drawn:  # every seed of the row is a record only: its figure stays as it was
            continue
        first = drawn[0]
        scatter(run_folder(out, toy, row, first), toy, f"{ROWS[row][0]} ({toy}, seed {first})",
                out / "figures" / f"{toy}-{row}.png")
    atomic_write_text(out / "mode_collapse.json",
                      json.dumps({f"{toy}/{row}": runs for (toy, row), runs in results.items()}, indent=2) + "\n")
    table = markdown(results, timing)
    atomic_write_text(out / "mode_collapse.md", table)
    print(table)


if __name__ == "__main__":
    main()
