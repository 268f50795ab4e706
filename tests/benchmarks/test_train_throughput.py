import json

import gannet.hardware
from tests.benchmarks.conftest import load_benchmark
from tests.conftest import write_fake_mnist

TINY = ["--rounds", "1", "--steps", "4", "--warmup", "1", "--log-every", "2", "--peak-size", "128",
        "--samples", "500", "--memory-steps", "0", "data.valid_size=100"]


def test_tiny_run_prints_the_cpu_both_plain_loops_and_gannet_rows(in_tmp, monkeypatch, capsys):
    monkeypatch.setenv("GANNET_DATA", str(in_tmp / "data"))
    write_fake_mnist(in_tmp / "data" / "mnist", n_train=700, n_test=50)
    monkeypatch.setattr(gannet.hardware, "bf16_is_fast", lambda device="cpu": False)  # as on an AVX2-only CPU
    bench = load_benchmark("train_throughput")
    figures = bench.main([*TINY, "--json", "figures.json"])
    out = capsys.readouterr().out
    assert out.startswith("CPU capability ")
    assert "bf16 rows skipped: this CPU" in out and "bf16" not in "".join(figures["best"])
    assert "plain loop, Algorithm 1" in out and "plain loop, reused fake batch" in out
    for update in ("alternating", "simultaneous"):
        assert f"gannet {update:<13} fp32:" in out
        assert figures["best"][f"{update} fp32"] > 0
    assert figures["best"]["plain algorithm-1"] > 0 and figures["best"]["plain reused"] > 0
    # Algorithm 1 draws a second fake batch: one more G forward per image than the simultaneous step
    flops = figures["flops_per_image"]
    assert flops["alternating"] > flops["simultaneous"] > 20e6
    assert "x plain Algorithm 1" in out and "of the fp32 peak" in out and "samples/s" in out
    assert json.loads((in_tmp / "figures.json").read_text())["capability"] == gannet.hardware.cpu_capability()
