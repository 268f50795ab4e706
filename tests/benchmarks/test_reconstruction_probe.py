import subprocess
import sys

import pytest
import torch

import gannet
from gannet.checkpoint import CheckpointError
from tests.benchmarks.conftest import BENCHMARKS, TINY_TOY_RUN as TINY, load_benchmark


def test_a_perfect_autoencoder_reconstructs_exactly_and_the_running_statistics_stay():
    bench = load_benchmark("reconstruction_probe")
    G = torch.nn.Sequential(torch.nn.BatchNorm1d(2, affine=False), torch.nn.Identity())
    G[0].running_var.fill_(4.0)
    x = torch.randn(200, 2) * 3 + 1
    errors, norms = bench.reconstruction_errors(torch.nn.Identity(), torch.nn.Identity(), x, 50, True)
    assert errors == pytest.approx(0.0, abs=1e-6) and norms == pytest.approx(x.norm(dim=1).numpy(), rel=1e-6)
    standardised, _ = bench.reconstruction_errors(G, torch.nn.Identity(), x, 50, batch_statistics=True)
    assert standardised.mean() > 1.0  # batch statistics standardise x: not x any more
    assert G[0].running_var.tolist() == [4.0, 4.0] and G[0].running_mean.tolist() == [0.0, 0.0]
    running, _ = bench.reconstruction_errors(G, torch.nn.Identity(), x, 50, batch_statistics=False)
    assert running == pytest.approx((x - x / 2).norm(dim=1).numpy(), rel=1e-3)  # (x - 0) / sqrt(4 + eps)


def test_smoke_probes_a_trained_run_mode_by_mode(in_tmp, capsys):
    bench = load_benchmark("reconstruction_probe")
    run = gannet.train("toy-ring-pacgan", in_tmp / "recon", {**TINY, "loss.reconstruction": 1.0}, quiet=True)
    (result,) = bench.main([str(run.folder), "--samples", "200", "--batch", "16", "--out", "probe.json"])
    assert capsys.readouterr().out.startswith("CPU capability ")
    assert [m["mode"] for m in result["modes"]] == list(range(8))
    assert sum(m["samples"] for m in result["modes"]) <= 200
    assert all(m["reconstruction_batch_stats"] > 0 and m["code_norm"] > 0 for m in result["modes"])
    assert (in_tmp / "probe.json").exists()


def test_a_run_without_the_reconstruction_term_is_an_error_line_naming_the_checkpoint(in_tmp):
    bench = load_benchmark("reconstruction_probe")
    run = gannet.train("toy-ring-pacgan", in_tmp / "plain", TINY, quiet=True)
    with pytest.raises(CheckpointError, match="last.pt: expected a run trained with loss.reconstruction"):
        bench.main([str(run.folder)])
    done = subprocess.run([sys.executable, str(BENCHMARKS / "reconstruction_probe.py"), str(in_tmp / "nowhere")],
                          capture_output=True, text=True)
    assert done.returncode == 1 and done.stderr.startswith("error: ") and "Traceback" not in done.stderr
