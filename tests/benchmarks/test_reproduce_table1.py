import json

from gannet.config import load_config
from gannet.training.run_dir import RunDir
from tests.benchmarks.conftest import load_benchmark
from tests.conftest import write_fake_mnist


def test_tiny_reproduction_writes_the_table(in_tmp, capsys):
    write_fake_mnist(in_tmp / "data" / "mnist", n_train=400, n_test=60)
    bench = load_benchmark("reproduce_table1")
    bench.main(["--tiny", "--variants", "released", "--data-root", str(in_tmp / "data"), "--out", "t1"])
    out = capsys.readouterr().out
    assert out.startswith("CPU capability ")
    assert "| released | mnist |" in out and "| true data | mnist |" in out and "wall-clock:" in out
    rows = json.loads((in_tmp / "t1" / "table1.json").read_text())["rows"]
    assert [r["variant"] for r in rows] == ["released", "true data"]
    cfg = load_config(str(RunDir(in_tmp / "t1" / "released").config))
    assert cfg.train.steps == 10 and cfg.generator.hidden == [32, 32]  # --tiny: a few steps of small networks
