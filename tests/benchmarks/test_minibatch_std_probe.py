import subprocess
import sys

import pytest
import torch

import gannet
from gannet.checkpoint import CheckpointError
from gannet.models import MLPDiscriminator
from tests.benchmarks.conftest import BENCHMARKS, TINY_TOY_RUN as TINY, load_benchmark


def test_a_d_that_reads_only_the_spread_owes_its_whole_gap_to_it():
    """With every output weight but the spread's at zero, the batch part of the gap is the whole gap; and
    it is v times the difference of the spreads, whose sign says which batches D takes for fake."""
    bench = load_benchmark("minibatch_std_probe")
    D = MLPDiscriminator(2, [8], "leaky_relu", keep_input=1.0, keep_hidden=1.0, minibatch_std=True).eval()
    with torch.no_grad():
        D.out.weight.zero_()
        D.out.bias.zero_()
        D.out.weight[0, -1] = 2.0
    g = torch.Generator().manual_seed(0)
    wide = [torch.randn(64, 2, generator=g) * 3 for _ in range(5)]
    narrow = [torch.randn(64, 2, generator=g) * 0.1 for _ in range(5)]
    row = bench.probe(D, wide, narrow)
    assert row["weight"] == 2.0
    assert row["spread_real"] > row["spread_fake"] > 0
    assert row["gap"] == pytest.approx(row["gap_from_spread"], rel=1e-5)
    assert row["gap_from_spread"] == pytest.approx(2.0 * (row["spread_real"] - row["spread_fake"]), rel=1e-6)
    assert bench.probe(D, narrow, wide)["gap"] < 0  # narrow "real" batches: D now prefers the wide ones


def test_smoke_probes_a_trained_run(in_tmp, capsys):
    bench = load_benchmark("minibatch_std_probe")
    run = gannet.train("toy-ring-pacgan", in_tmp / "msd", {**TINY, "discriminator.minibatch_std": True}, quiet=True)
    rows = bench.main([str(run.folder), "--batches", "3", "--batch", "16", "--out", "probe.json"])
    out = capsys.readouterr().out
    assert out.startswith("CPU capability ") and "| toy-ring-pacgan |" in out
    (row,) = rows
    assert row["data"] == "toy-ring-pacgan" and row["spread_real"] > 0 and row["spread_fake"] > 0
    assert (in_tmp / "probe.json").exists()


def test_a_run_without_minibatch_std_is_an_error_line_naming_the_checkpoint(in_tmp):
    bench = load_benchmark("minibatch_std_probe")
    run = gannet.train("toy-ring-pacgan", in_tmp / "plain", TINY, quiet=True)
    with pytest.raises(CheckpointError, match="last.pt: expected a run trained with discriminator.minibatch_std"):
        bench.main([str(run.folder)])
    done = subprocess.run([sys.executable, str(BENCHMARKS / "minibatch_std_probe.py"), str(in_tmp / "nowhere")],
                          capture_output=True, text=True)
    assert done.returncode == 1 and done.stderr.startswith("error: ") and "Traceback" not in done.stderr
    assert "nowhere" in done.stderr
