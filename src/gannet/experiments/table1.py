"""Table 1 of Goodfellow et al. (2014), reproduced: train each variant, select, score, tabulate.

Each row is one training run of a recipe with a few overrides (the *variant*), checkpointed every
epoch with the best checkpoint kept by the authors' validation monitor (Parzen estimate on validation
images, 100 samples, sigma 0.2), then scored by the full protocol of :func:`gannet.evaluation.parzen_eval`
(10,000 samples, sigma chosen on the first 1,000 validation images, all test images). The "true data"
row puts real training images in place of generated samples: the ceiling the estimator allows.

A run folder that already exists is continued (``--resume``) up to the requested steps, so the whole
reproduction can be stopped and rerun; the table records the training time the runs logged.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gannet.config import Config, load_config, override_key
from gannet.data import load_dataset
from gannet.evaluation import parzen_eval
from gannet.figures import plot_selection_curves, plot_validation_curves
from gannet.io import atomic_write_text, json_default
from gannet.metrics import parzen
from gannet.training.run_dir import RunDir, read_metrics
from gannet.training.trainer import minibatches_per_step

PAPER_MNIST = [  # Table 1, Parzen window log-likelihood on MNIST (nats)
    ("DBN (Bengio et al. 2013)", "138 +- 2"),
    ("Stacked CAE (Bengio et al. 2013)", "121 +- 1.6"),
    ("Deep GSN (Bengio et al. 2014)", "214 +- 1.1"),
    ("Adversarial nets (paper)", "225 +- 2"),
]


@dataclass(frozen=True)
class Variant:
    """One row: a recipe with overrides, trained in ``OUT/<run>`` (default: its name), and which G of
    that run is scored: ``raw`` (G's own weights) or ``average`` (the moving average, ``train.ema``).
    Two variants may share a run: the average only watches G, so one run gives both rows. ``snapshots``
    scores the uniform average of G over the run's kept checkpoints (:mod:`gannet.averaging`) from
    the window start that validation chooses (:func:`snapshot_average_selection`)."""
    name: str
    recipe: str
    overrides: tuple[str, ...]
    what: str
    run: str = ""
    generator: str = "raw"

    @property
    def folder_name(self) -> str:
        return self.run or self.name


EMA = "train.ema=0.9999"  # watches G only: the released run's G and D train exactly as without it

VARIANTS = {
    "released": Variant("released", "mnist-2014", (EMA,), "authors' released code: simultaneous updates, "
                        "-log D(G(z)), z ~ U(-sqrt 3, sqrt 3); G's own weights"),
    "released-ema": Variant("released-ema", "mnist-2014", (EMA,), "the same run, scored with the exponential "
                            "moving average of G's weights (decay 0.9999)", run="released", generator="average"),
    "released-swa": Variant("released-swa", "mnist-2014", (EMA,), "the same run, scored with the uniform average of "
                            "G's weights over its kept checkpoints from a step chosen on validation",
                            run="released", generator="snapshots"),
    "gaussian": Variant("gaussian", "mnist-2014", ("noise.prior=normal",), "as released, z ~ N(0, I) "
                        "(the prior the paper's run most likely used)"),
    "alternating": Variant("alternating", "mnist-2014", ("train.update=alternating",),
                           "the paper's Algorithm 1 (k = 1, fresh z for G, G step through the updated D)"),
    "minimax": Variant("minimax", "mnist-2014", ("loss.name=minimax",),
                       "as released, but G minimises log(1 - D(G(z))) (the saturating objective)"),
    "fashion": Variant("fashion", "fashion-mnist", (EMA,), "the released configuration on Fashion-MNIST; G's own "
                       "weights"),
    "fashion-ema": Variant("fashion-ema", "fashion-mnist", (EMA,), "the same run, scored with the moving average "
                           "of G's weights (decay 0.9999)", run="fashion", generator="average"),
}


@dataclass
class Row:
    variant: str
    what: str
    dataset: str
    steps: int
    record: dict = field(default_factory=dict)
    train_seconds: float = 0.0
    best_step: int | None = None


def train_variant(variant: Variant, steps: int, folder: Path, data_root: str | None,
                  extra: tuple[str, ...] = ()) -> None:
    """Train (or continue) ``variant`` in ``folder`` up to ``steps`` generator steps.

    A folder that already holds a checkpoint must hold *this* variant: its saved config has to agree
    with the recipe and overrides on every key that changes what is trained, else ValueError.
    """
    from gannet.checkpoint import load_checkpoint
    from gannet.training import launch

    run = RunDir(folder)
    common = [f"train.steps={steps}", "train.progress=false"]
    if data_root:
        common.append(f"data.root={_dataset_root(variant.recipe, data_root)}")
    if run.last.exists():
        state = load_checkpoint(run.last)
        _check_same_variant(variant, folder, state["config"], extra, launch.RESUMABLE_KEYS)
        if int(state["step"]) >= steps:
            return
        resumable = [o for o in (*variant.overrides, *extra)  # the rest is in the saved config
                     if override_key(o) in launch.RESUMABLE_KEYS]
        launch.train(variant.recipe, folder, [*common, *resumable], resume=True)
    else:  # a fresh folder, or a run stopped before its first checkpoint: start (again) from step 0
        launch.train(variant.recipe, folder, [*variant.overrides, *common, *extra], overwrite=True)


def _check_same_variant(variant: Variant, folder: Path, saved: dict, extra: tuple[str, ...], free: set) -> None:
    from gannet.config import flatten

    expected = flatten(load_config(variant.recipe, [*variant.overrides, *extra]).to_dict())
    saved = flatten(Config.model_validate(saved).to_dict())  # older key names read as today's
    differ = [k for k in expected if k not in free and saved.get(k) != expected[k]]
    if differ:
        lines = ", ".join(f"{k}: folder has {saved.get(k)!r}, variant needs {expected[k]!r}" for k in differ)
        raise ValueError(f"{folder} holds a run of another configuration than variant '{variant.name}' ({lines}); "
                         f"choose another --out or remove the folder")


def logged_training_seconds(folder: Path) -> float:
    """Seconds of training steps the run's metrics account for (images / images-per-second, summed over
    the logging intervals): the time of the steps themselves, without validation, sample grids and
    checkpoint writes, and summed over every session that trained the run."""
    rows = [r for r in read_metrics(RunDir(folder).metrics) if "images_per_s" in r]
    cfg = load_config(str(RunDir(folder).config))
    seconds, previous = 0.0, 0
    for r in rows:
        steps = r["step"] - previous
        previous = r["step"]
        if steps > 0:
            seconds += steps * cfg.train.batch_size * minibatches_per_step(cfg) / r["images_per_s"]
    return seconds


def _dataset_root(recipe: str, data_root: str | None) -> str | None:
    """``data_root/<the recipe's dataset>`` as an absolute path (runs record it), or None for the default."""
    return str((Path(data_root) / load_config(recipe).data.name).resolve()) if data_root else None


def real_data_row(recipe: str, data_root: str | None, n_centres: int = 10_000, n_valid: int = 1_000,
                  seed: int = 0, extra: tuple[str, ...] = ()) -> Row:
    """Real training images as the kernel centres, under the same protocol: the estimator's ceiling."""
    root = [f"data.root={_dataset_root(recipe, data_root)}"] if data_root else []
    cfg = load_config(recipe, [*root, *extra])
    data = load_dataset(cfg.data, cfg.seed)
    pick = np.random.default_rng(seed).choice(len(data.train), size=min(n_centres, len(data.train)), replace=False)
    started = time.perf_counter()
    result = parzen.evaluate(data.train[np.sort(pick)], data.valid[:n_valid], data.test)
    record = result.to_dict()
    record["protocol"] = {"metric": "parzen", "centres": f"{len(pick)} training images drawn without "
                          f"replacement (numpy default_rng({seed}))", "dataset": data.name,
                          "sigma_chosen_on": f"the first {n_valid} validation examples",
                          "scored": f"all {len(data.test)} test examples",
                          "seconds": round(time.perf_counter() - started, 2)}
    return Row("true data", "real training images as kernel centres", data.name, 0, record)


def validation_selection(folder: Path, data_root: str | None = None, n_samples: int = 10_000,
                         n_valid: int = 1_000, seed: int = 1, generator: str = "raw") -> list[dict]:
    """The full Parzen protocol on validation images only, for every checkpoint the run kept.

    For each kept checkpoint (``train.keep_checkpoints``) and ``last.pt``: ``n_samples`` samples,
    sigma chosen on the first ``n_valid`` validation images, the mean log-likelihood of the *other*
    validation images. Test images are never touched, so the checkpoint of highest score may be chosen
    on it and then scored on the test set once. This is the authors' selection rule ("the best estimate
    of log-likelihood on the validation set"), with the noise of their 100-sample monitor taken out.
    The samples use noise seed ``seed`` (1), not the test score's 0, so that the chosen checkpoint is
    not also chosen for its particular kernel centres. ``generator`` is G's own weights (``raw``) or
    their moving average (``average``: checkpoints written before the run kept one are skipped).
    Returns one record per checkpoint: path, step, sigma, valid_ll, valid_se (sorted by step).
    """
    from gannet.checkpoint import with_generator
    from gannet.sampling import state_and_config
    from gannet.sampling import generated_samples

    run = RunDir(folder)
    candidates = [p for p in [*run.snapshots(), run.last] if p.exists()]
    if not candidates:
        raise FileNotFoundError(f"{folder} has no checkpoints to select from")
    valid = _validation_images(folder, data_root, n_valid)
    records = {}
    for path in candidates:
        state, _ = state_and_config(path)
        step = int(state["step"])
        if step in records or (generator == "average" and state.get("generator_ema") is None):
            continue  # last.pt is usually also the newest snapshot
        state = with_generator(state, generator, str(path))
        samples = generated_samples(state, n_samples, seed=seed)
        result = parzen.evaluate(samples, valid[:n_valid], valid[n_valid:])
        records[step] = {"checkpoint": str(path), "step": step, "sigma": result.sigma,
                         "valid_ll": result.mean, "valid_se": result.standard_error}
    return [records[step] for step in sorted(records)]


def _validation_images(folder: Path, data_root: str | None, n_valid: int) -> np.ndarray:
    cfg = load_config(str(RunDir(folder).config))  # the run's own config: no checkpoint is read for it
    if data_root:
        cfg.data.root = data_root
    data = load_dataset(cfg.data, cfg.seed)
    if data.valid is None or len(data.valid) <= n_valid:
        raise ValueError(f"{folder}: validation selection needs more than {n_valid} validation images "
                         f"(the first {n_valid} choose sigma, the rest are scored); set data.valid_size")
    return data.valid


def snapshot_average_selection(folder: Path, data_root: str | None = None, n_samples: int = 10_000,
                               n_valid: int = 1_000, seed: int = 1, every: int = 10_000) -> list[dict]:
    """Like :func:`validation_selection`, for averages of G: for every window start S that is a multiple
    of ``every`` and leaves at least two kept checkpoints, the uniform average of G over the kept
    checkpoints from S on, scored on validation images only. Returns records with ``step`` = S,
    ``checkpoints`` (how many were averaged), sigma, valid_ll and valid_se, sorted by S."""
    from gannet.averaging import trailing_averages
    from gannet.sampling import generated_samples

    kept = RunDir(folder).snapshots()
    steps = [RunDir.step_of(p) for p in kept]
    starts = [s for s in steps if s % every == 0 and sum(t >= s for t in steps) >= 2]
    if not starts:
        raise FileNotFoundError(f"{folder}: no window of at least two kept checkpoints starting at a multiple of "
                                f"{every} steps (train.keep_checkpoints=true keeps them)")
    valid = _validation_images(folder, data_root, n_valid)
    records = []
    for start, averaged in trailing_averages(kept, starts):  # each checkpoint loaded once
        samples = generated_samples(averaged, n_samples, seed=seed)
        result = parzen.evaluate(samples, valid[:n_valid], valid[n_valid:])
        records.append({"step": start, "checkpoints": len(averaged["average_of"]), "sigma": result.sigma,
                        "valid_ll": result.mean, "valid_se": result.standard_error})
    return sorted(records, key=lambda r: r["step"])


def score_variant(variant: Variant, folder: Path, data_root: str | None, n_samples: int = 10_000,
                  n_valid: int = 1_000) -> Row:
    """Select a checkpoint on validation images, then score it once on the test set.

    With kept checkpoints the selection is :func:`validation_selection` (full protocol on validation
    images); without, it is the authors' monitor (``best.pt``)."""
    from gannet.checkpoint import load_checkpoint

    run = RunDir(folder)
    root = _dataset_root(variant.recipe, data_root)
    if variant.generator == "snapshots":
        return _score_snapshot_average(variant, folder, root, n_samples, n_valid)
    selection = (validation_selection(folder, root, n_samples, n_valid, generator=variant.generator)
                 if run.snapshots() else [])
    if selection:
        chosen = max(selection, key=lambda r: r["valid_ll"])
        checkpoint, rule = Path(chosen["checkpoint"]), (
            f"highest full-protocol validation Parzen LL among {len(selection)} kept checkpoints "
            f"(sigma on the first {n_valid} validation images, the rest scored)")
    else:
        checkpoint = run.best if run.best.exists() else run.last
        rule = ("the authors' monitor (validation Parzen LL, 100 samples, sigma 0.2)" if run.best.exists()
                else "the last checkpoint")
    record = parzen_eval(checkpoint, n_samples, n_valid, "test", data_root=root, generator=variant.generator)
    record["protocol"]["selected_by"] = rule
    if selection:
        record["protocol"]["validation_selection"] = selection
    steps = int(load_checkpoint(run.last)["step"])
    return Row(variant.name, variant.what, record["protocol"]["dataset"], steps, record,
               logged_training_seconds(folder), record["protocol"]["step"])


def _score_snapshot_average(variant: Variant, folder: Path, root: str | None, n_samples: int, n_valid: int) -> Row:
    """The average over the window validation chooses, written to ``folder/average_from_<S>.pt``
    (a generator-only file, like ``gannet average`` writes) and scored once on the test set."""
    from gannet.averaging import average_generator, checkpoints_in_window
    from gannet.checkpoint import load_checkpoint, save_checkpoint

    run = RunDir(folder)
    selection = snapshot_average_selection(folder, root, n_samples, n_valid)
    chosen = max(selection, key=lambda r: r["valid_ll"])
    path = folder / f"average_from_{chosen['step']:07d}.pt"
    averaged = average_generator(checkpoints_in_window(run.snapshots(), chosen["step"]))
    save_checkpoint(averaged, path)
    record = parzen_eval(path, n_samples, n_valid, "test", data_root=root)
    record["protocol"]["average_of"] = averaged["average_of"]
    record["protocol"]["selected_by"] = (f"the window start (every 10,000 steps) of highest full-protocol validation "
                                         f"Parzen LL among {len(selection)} windows")
    record["protocol"]["validation_selection"] = selection
    steps = int(load_checkpoint(run.last)["step"])
    return Row(variant.name, variant.what, record["protocol"]["dataset"], steps, record,
               logged_training_seconds(folder), chosen["step"])


def markdown_table(rows: list[Row]) -> str:
    lines = ["| row | dataset | Parzen LL (nats) | sigma | selected step / trained steps | time of the steps | what |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        ll = f"{r.record['mean']:.1f} +- {r.record['standard_error']:.1f}"
        edge = " (grid edge)" if r.record.get("sigma_at_edge") else ""
        averaged = r.record.get("protocol", {}).get("average_of")
        selected = ("-" if r.best_step is None else f"{r.best_step:,} / {r.steps:,}" if not averaged
                    else f"average of {averaged[0]:,}-{averaged[-1]:,} / {r.steps:,}")
        time_ = "-" if not r.train_seconds else (f"{r.train_seconds / 60:.0f} min" if r.train_seconds >= 60
                                                 else f"{r.train_seconds:.0f} s")
        lines.append(f"| {r.variant} | {r.dataset} | {ll} | {r.record['sigma']:.4g}{edge} | {selected} | {time_} "
                     f"| {r.what} |")
    lines += ["", "Goodfellow et al. (2014), Table 1, MNIST:", "", "| model | Parzen LL (nats) |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in PAPER_MNIST]
    return "\n".join(lines) + "\n"


def write_table(rows: list[Row], out: Path, wall_seconds: float) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    payload = {"rows": [r.__dict__ for r in rows], "wall_seconds_this_invocation": round(wall_seconds, 1)}
    json_path, md_path = out / "table1.json", out / "table1.md"
    atomic_write_text(json_path, json.dumps(payload, indent=2, default=json_default) + "\n")
    atomic_write_text(md_path, markdown_table(rows))
    return json_path, md_path


def parse_plan(items: list[str], default_steps: int) -> list[tuple[Variant, int]]:
    """``["released:150000", "gaussian"]`` -> variants with their step budgets (default for bare names)."""
    plan = []
    for item in items:
        name, _, steps = item.partition(":")
        if name not in VARIANTS:
            raise ValueError(f"unknown variant '{name}'; choose from {', '.join(VARIANTS)}")
        if steps and not (steps.isdigit() and int(steps) > 0):
            raise ValueError(f"'{item}': the steps after ':' must be a positive integer")
        plan.append((VARIANTS[name], int(steps) if steps else default_steps))
    return plan


def reproduce(plan: list[tuple[Variant, int]], out: Path, data_root: str | None = None, n_samples: int = 10_000,
              n_valid: int = 1_000, n_centres: int = 10_000, extra: tuple[str, ...] = ()) -> list[Row]:
    """Train, select and score every variant (run folders ``out/<variant>``), add the true-data rows,
    and write ``out/table1.json`` and ``out/table1.md``."""
    started = time.perf_counter()
    rows = []
    for variant, steps in plan:
        folder = out / variant.folder_name
        train_variant(variant, steps, folder, data_root, extra)
        rows.append(score_variant(variant, folder, data_root, n_samples, n_valid))
    for recipe in dict.fromkeys(variant.recipe for variant, _ in plan):
        rows.append(real_data_row(recipe, data_root, n_centres, n_valid, extra=extra))
    write_table(rows, out, time.perf_counter() - started)
    curves = {variant.folder_name: read_metrics(RunDir(out / variant.folder_name).metrics) for variant, _ in plan}
    if any(r.get("valid_parzen_ll") is not None for records in curves.values() for r in records):
        plot_validation_curves(curves, out / "validation_curves.png")
    selections = {r.variant: r.record["protocol"].get("validation_selection", []) for r in rows}
    if any(selections.values()):
        plot_selection_curves(selections, out / "selection_curves.png")
    return rows
