"""gannet.scoring: one table of metrics drives gannet eval's choices, --metric all, its summaries and records."""

import json

import pytest

import gannet
from gannet import scoring
from gannet.cli import main
from gannet.data import DataError

TINY = {"train.steps": 20, "train.progress": False, "train.tensorboard": False, "monitor.enabled": False}


@pytest.fixture(scope="module")
def ring(tmp_path_factory):
    return gannet.train("toy-ring", out=tmp_path_factory.mktemp("scoring") / "ring", overrides=TINY, quiet=True)


def test_a_metric_added_to_the_table_is_a_choice_part_of_all_printed_and_written(ring, monkeypatch, capsys):
    calls = []

    def run(path, protocol):
        calls.append((path.name, protocol.samples, protocol.seed))
        return {"metric": "spread", "value": 1.5, "protocol": {"checkpoint": str(path)}}

    spread = scoring.Metric("spread", "a test metric", lambda state: None, run,
                            lambda record, protocol: f"spread: {record['value']}")
    monkeypatch.setitem(scoring.METRICS, "spread", spread)
    with pytest.raises(SystemExit):
        main(["eval", "--help"])
    assert "spread: a test metric" in capsys.readouterr().out.replace("\n", " ").replace("  ", " ")
    assert main(["eval", str(ring.folder), "--metric", "spread", "--samples", "7", "--seed", "3"]) == 0
    out = capsys.readouterr()
    assert "spread: 1.5" in out.out and "eval_spread_last.json" in out.err
    assert json.loads((ring.folder / "eval_spread_last.json").read_text())["value"] == 1.5
    assert calls == [("last.pt", 7, 3)]
    assert main(["eval", str(ring.folder), "--metric", "all", "--samples", "100"]) == 0
    assert "spread: 1.5" in capsys.readouterr().out and len(calls) == 2
    assert set(gannet.evaluate(ring, metric="all", samples=100, write=False)) == {"parzen", "modes", "spread"}


def test_applicability_is_checked_once_for_all_and_for_the_metric(ring):
    from gannet.checkpoint import load_checkpoint
    from gannet.training.run_dir import RunDir

    state = load_checkpoint(RunDir(ring.folder).last)
    reasons = {name: metric.applies(state) for name, metric in scoring.METRICS.items()}
    assert reasons["parzen"] is None and reasons["modes"] is None
    assert all(reasons[name] for name in ("classifier", "codes", "elbo", "inception"))
    for name in ("classifier", "codes", "elbo"):  # the reason --metric all leaves it out is the metric's error
        with pytest.raises(DataError) as err:
            gannet.evaluate(ring, metric=name, write=False)
        assert str(err.value) == reasons[name]


def test_the_record_name_says_which_generator_when_it_is_not_auto(tmp_path):
    protocol = scoring.Protocol(generator="raw")
    path = tmp_path / "checkpoints" / "best.pt"
    assert scoring.record_name("parzen", path, protocol) == "parzen_best_raw"
    assert scoring.record_name("codes", path, protocol) == "codes_best"  # Q reads D: no G named
    assert scoring.record_name("parzen", path, scoring.Protocol()) == "parzen_best"
