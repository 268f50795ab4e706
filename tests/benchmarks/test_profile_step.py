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


def test_tiny_profile_of_the_dcgan_recipe_shows_its_convolutions(in_tmp, monkeypatch, capsys):
    monkeypatch.setenv("GANNET_DATA", str(in_tmp / "data"))
    write_fake_mnist(in_tmp / "data" / "mnist", n_train=400, n_test=50)
    bench = load_benchmark("profile_step")
    result = bench.main(["--recipe", "dcgan-mnist", "--steps", "2", "--warmup", "1", "--rows", "5",
                         "data.valid_size=100", "train.batch_size=8", "generator.width=4", "discriminator.width=4",
                         "generator.dense=8", "discriminator.dense=8"])
    assert "dcgan-mnist alternating fp32:" in capsys.readouterr().out
    assert any("convolution" in name for name in result["operators"])
