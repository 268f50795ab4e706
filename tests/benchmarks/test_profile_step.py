from tests.benchmarks.conftest import load_benchmark
from tests.conftest import write_fake_mnist


def test_tiny_profile_prints_the_cpu_the_rate_and_the_operators(in_tmp, monkeypatch, capsys):
    monkeypatch.setenv("GANNET_DATA", str(in_tmp / "data"))
    write_fake_mnist(in_tmp / "data" / "mnist", n_train=400, n_test=50)
    bench = load_benchmark("profile_step")
    result = bench.main(["--steps", "2", "--warmup", "1", "--rows", "5", "data.valid_size=100"])
    out = capsys.readouterr().out
    assert out.startswith("CPU capability ")
    assert "alternating fp32:" in out and "images/s unprofiled" in out and "Self CPU" in out
    assert result["images_per_s"] > 0
    assert "aten::mm" in result["operators"] or "aten::addmm" in result["operators"]
