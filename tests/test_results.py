"""The committed generator of docs/reproduction.md: safe to load, what the docs say it is, and its
Parzen score reproduces the table's number from the file alone."""

import json
from pathlib import Path

import pytest

from gannet.checkpoint import load_checkpoint
from gannet.evaluate import parzen_eval
from tests.conftest import real_data_root, requires_real_mnist

RESULTS = Path(__file__).resolve().parent.parent / "results"


def test_the_committed_generator_is_the_documented_average():
    state = load_checkpoint(RESULTS / "mnist-2014-g.pt")  # weights_only: nothing is unpickled
    assert state["contents"] == "generator" and "discriminator" not in state
    assert state["averaged"] and state["average_of"][0] == 110_000 and state["average_of"][-1] == 200_000
    assert len(state["average_of"]) == 31 and state["config"]["description"].startswith("The paper's MNIST model")
    assert state["config"]["data"]["root"] is None  # the file travels: data comes from $GANNET_DATA
    recorded = json.loads((RESULTS / "eval_parzen_mnist-2014-g.json").read_text())
    assert recorded["n_samples"] == 10_000 and recorded["n_test"] == 10_000 and recorded["mean"] >= 225


@pytest.mark.slow
@requires_real_mnist
def test_its_parzen_score_reproduces_the_documented_number():
    record = parzen_eval(RESULTS / "mnist-2014-g.pt", data_root=str(real_data_root() / "mnist"))
    recorded = json.loads((RESULTS / "eval_parzen_mnist-2014-g.json").read_text())
    assert record["sigma"] == recorded["sigma"]
    assert record["mean"] == pytest.approx(recorded["mean"], abs=1e-6)
    assert record["mean"] == pytest.approx(228.19, abs=0.01)  # docs/reproduction.md, Table 1
