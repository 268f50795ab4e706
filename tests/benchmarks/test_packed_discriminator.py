import json

import pytest

from gannet.data.toy import TOYS
from tests.benchmarks.conftest import load_benchmark


def test_smoke_run_writes_every_row_with_its_bayes_bound(in_tmp, capsys):
    bench = load_benchmark("packed_discriminator")
    results = bench.main(["--smoke", "--covered", "20", "--out", "out"])
    assert capsys.readouterr().out.startswith("CPU capability ")
    runs = results["runs"]
    assert [(r["setting"], r["row"]) for r in runs] == [(s, r) for s in bench.SETTINGS for r in bench.ROWS]
    assert [r["pack"] for r in runs[:4]] == [1, 4, 4, 4]
    for run in runs:
        assert 0.0 <= run["accuracy"][4] <= 1.0 and run["ms_per_step"] > 0
    table = (in_tmp / "out" / "packed_discriminator.md").read_text()
    assert table.count("| 20/25 |") == 8  # 2 settings x 4 rows
    assert len(json.loads((in_tmp / "out" / "packed_discriminator.json").read_text())["runs"]) == 8


@pytest.mark.parametrize("covered, pack", [(20, 1), (20, 4), (10, 4)])
def test_the_bayes_bound_matches_its_closed_form(covered, pack):
    """Fakes on c of 25 modes: a real pack is recognised when one of its points lies off them, and a fake
    pack never can be, so the best accuracy is (1 + 1 - (c/25)^m) / 2."""
    bench = load_benchmark("packed_discriminator")
    measured = bench.bayes_accuracy(TOYS["toy-grid"], bench.partial_grid(covered), pack, 20_000, seed=0)
    assert measured == pytest.approx((2 - (covered / 25) ** pack) / 2, abs=0.01)
