import pytest

from tests.benchmarks.conftest import load_benchmark
from tests.conftest import write_fake_mnist


def test_tiny_protocol_agrees_with_both_numpy_baselines(in_tmp, monkeypatch, capsys):
    monkeypatch.setenv("GANNET_DATA", str(in_tmp / "data"))
    write_fake_mnist(in_tmp / "data" / "mnist", n_train=400, n_test=40)
    bench = load_benchmark("parzen_speed")
    result = bench.main(["--centres", "200", "--valid", "50", "--test", "40", "--valid-split", "100",
                         "--baseline-points", "5"])
    out = capsys.readouterr().out
    assert out.startswith("CPU capability ")
    assert "full protocol, gannet:" in out and "NumPy matmul" in out and "NumPy broadcast" in out
    assert result["matmul_mean"] == pytest.approx(result["mean"], abs=1e-6)
    assert result["max_gap"] < 1e-6
