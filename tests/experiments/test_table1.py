import json

import pytest

from gannet.config import load_config
from gannet.experiments.table1 import (
    VARIANTS,
    markdown_table,
    parse_plan,
    reproduce,
    score_variant,
    train_variant,
    validation_selection,
)
from gannet.training.run_dir import RunDir, read_metrics
from tests.conftest import write_fake_mnist

SMALL = ("data.valid_size=100", "train.batch_size=20", "monitor.every=5", "monitor.valid_examples=100",
         "train.log_every=5", "train.tensorboard=false")


def test_plan_reads_names_and_step_budgets():
    plan = parse_plan(["released:150000", "gaussian"], 30_000)
    assert [(v.name, s) for v, s in plan] == [("released", 150_000), ("gaussian", 30_000)]
    assert VARIANTS["gaussian"].overrides == ("noise.prior=normal",)
    with pytest.raises(ValueError, match="unknown variant 'uniform'"):
        parse_plan(["uniform"], 10)
    with pytest.raises(ValueError, match="positive integer"):
        parse_plan(["released:ten"], 10)


def test_smoke_reproduction_trains_scores_and_continues(tmp_path):
    base = tmp_path / "data"
    write_fake_mnist(base / "mnist", n_train=400, n_test=60)
    out = tmp_path / "table1"
    rows = reproduce(parse_plan(["released:10", "minimax:10"], 0), out, str(base), n_samples=200, n_valid=50,
                     n_centres=200, extra=SMALL)
    assert [r.variant for r in rows] == ["released", "minimax", "true data"]
    for row in rows[:2]:
        assert row.steps == 10 and row.best_step in (5, 10) and row.train_seconds > 0
        assert row.record["n_samples"] == 200 and row.record["n_test"] == 60
    assert rows[2].record["protocol"]["centres"].startswith("200 training images")
    saved = json.loads((out / "table1.json").read_text())
    assert [r["variant"] for r in saved["rows"]] == ["released", "minimax", "true data"]
    table = (out / "table1.md").read_text()
    assert "| released | mnist |" in table and "225 +- 2" in table
    assert (out / "validation_curves.png").stat().st_size > 1000
    # the minimax run really trained with the saturating objective
    assert load_config(str(RunDir(out / "minimax").config)).loss.name == "minimax"

    logged = read_metrics(RunDir(out / "released").metrics)
    reproduce(parse_plan(["released:10"], 0), out, str(base), 200, 50, 200, extra=SMALL)
    assert read_metrics(RunDir(out / "released").metrics) == logged  # nothing retrained
    rows = reproduce(parse_plan(["released:15"], 0), out, str(base), 200, 50, 200, extra=SMALL)
    assert rows[0].steps == 15
    after = read_metrics(RunDir(out / "released").metrics)
    assert after[: len(logged)] == logged and after[-2]["step"] == 15  # continued from step 10, not restarted
    # the time column is the logged step time: examples / (examples per second), summed over intervals
    expected = sum(5 * 20 / r["images_per_s"] for r in after if "images_per_s" in r)
    assert rows[0].train_seconds == pytest.approx(expected)
    # a folder holding another configuration is refused, not continued under the wrong name
    with pytest.raises(ValueError, match="noise.prior: folder has 'uniform', variant needs 'normal'"):
        train_variant(VARIANTS["gaussian"], 20, out / "released", str(base), SMALL)


def test_kept_checkpoints_are_selected_on_validation_images_only(tmp_path, monkeypatch):
    base = tmp_path / "data"
    write_fake_mnist(base / "mnist", n_train=400, n_test=70)
    folder = tmp_path / "released"
    keep = ("train.checkpoint_every=5", "train.keep_checkpoints=true")
    train_variant(VARIANTS["released"], 15, folder, str(base), SMALL + keep)
    assert [p.name for p in RunDir(folder).snapshots()] == [f"step_{n:07d}.pt" for n in (0, 5, 10, 15)]

    from gannet.metrics import parzen

    scored_sets = []
    real_evaluate = parzen.evaluate

    def spy(samples, x_valid, x_test, *args, **kwargs):
        scored_sets.append(len(x_test))
        return real_evaluate(samples, x_valid, x_test, *args, **kwargs)

    monkeypatch.setattr(parzen, "evaluate", spy)
    selection = validation_selection(folder, str(base / "mnist"), n_samples=100, n_valid=40)
    assert [r["step"] for r in selection] == [0, 5, 10, 15]  # last.pt (step 15) is not scored twice
    assert scored_sets == [60] * 4  # the 60 validation images after the first 40, never the test set
    assert all(r["valid_ll"] == r["valid_ll"] and r["sigma"] > 0 for r in selection)

    scored_sets.clear()
    row = score_variant(VARIANTS["released"], folder, str(base), n_samples=100, n_valid=40)
    best = max(selection, key=lambda r: r["valid_ll"])
    assert row.best_step == best["step"] and "4 kept checkpoints" in row.record["protocol"]["selected_by"]
    assert scored_sets == [60] * 4 + [70]  # four on validation, then the chosen one once on the 70 test images
    with pytest.raises(ValueError, match="more than 100 validation images"):
        validation_selection(folder, str(base / "mnist"), n_samples=100, n_valid=100)


def test_one_run_gives_the_raw_and_the_averaged_rows(tmp_path):
    """released and released-ema share a run; checkpoints from before the average existed are skipped
    by the averaged row's selection, not scored with G's raw weights under its name."""
    from gannet.experiments.table1 import Variant

    base = tmp_path / "data"
    write_fake_mnist(base / "mnist", n_train=400, n_test=70)
    folder = tmp_path / VARIANTS["released-ema"].folder_name
    keep = ("train.checkpoint_every=5", "train.keep_checkpoints=true")
    plain = Variant("released", "mnist-2014", (), "as released, without the average")
    train_variant(plain, 10, folder, str(base), SMALL + keep)
    train_variant(VARIANTS["released"], 15, folder, str(base), SMALL + keep)  # resumes, turning the average on

    raw = validation_selection(folder, str(base / "mnist"), n_samples=100, n_valid=40)
    averaged = validation_selection(folder, str(base / "mnist"), n_samples=100, n_valid=40, generator="average")
    assert [r["step"] for r in raw] == [0, 5, 10, 15] and [r["step"] for r in averaged] == [15]
    assert averaged[0]["valid_ll"] != raw[-1]["valid_ll"]

    row = score_variant(VARIANTS["released-ema"], folder, str(base), n_samples=100, n_valid=40)
    assert row.variant == "released-ema" and row.best_step == 15
    assert row.record["protocol"]["generator"].startswith("exponential moving average of G's weights (decay 0.9999)")
    row = score_variant(VARIANTS["released"], folder, str(base), n_samples=100, n_valid=40)
    assert row.record["protocol"]["generator"].startswith("raw G")

    from gannet.experiments.table1 import snapshot_average_selection

    windows = snapshot_average_selection(folder, str(base / "mnist"), n_samples=100, n_valid=40, every=5)
    assert [(r["step"], r["checkpoints"]) for r in windows] == [(0, 4), (5, 3), (10, 2)]  # >= 2 checkpoints each
    row = score_variant(VARIANTS["released-swa"], folder, str(base), n_samples=100, n_valid=40)
    assert row.record["protocol"]["generator"].startswith("uniform average of G's weights over")
    assert (folder / f"average_from_{row.best_step:07d}.pt").exists()
    assert "average of" in markdown_table([row])

    from gannet.figures import plot_selection_curves

    plot_selection_curves({"released": raw, "released-ema": averaged, "none": []}, tmp_path / "sel.png")
    assert (tmp_path / "sel.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="no row has a validation selection"):
        plot_selection_curves({"none": []}, tmp_path / "nothing.png")
