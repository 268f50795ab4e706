import json

import pytest

from gannet.experiments.table1 import VARIANTS, parse_plan, reproduce, train_variant
from gannet.train.run_dir import RunDir, read_metrics
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
    assert "generator: minimax" in RunDir(out / "minimax").config.read_text()

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
