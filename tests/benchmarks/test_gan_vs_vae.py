import json

from tests.benchmarks.conftest import load_benchmark
from tests.benchmarks.test_recipe_table import tiny_data_and_classifier


def test_tiny_gan_and_vae_are_scored_under_one_protocol(in_tmp, monkeypatch, capsys):
    tiny_data_and_classifier(in_tmp, monkeypatch)
    recipes = load_benchmark("recipe_table")  # its smoke settings: a few steps of small networks
    recipes.train("mnist-2014", recipes.SMOKE, in_tmp / "gan")
    recipes.train("vae-mnist", recipes.SMOKE, in_tmp / "vae")
    bench = load_benchmark("gan_vs_vae")
    bench.main(["--gan", "gan", "--vae", "vae", "--samples", "200", "--out", "out"])
    out = capsys.readouterr().out
    assert out.startswith("CPU capability ")
    assert "| GAN |" in out and "| VAE |" in out and "ELBO" in out and "wall-clock:" in out
    saved = json.loads((in_tmp / "out" / "gan_vs_vae.json").read_text())
    assert saved["gan"]["step"] == saved["vae"]["step"] == 20
    assert saved["vae"]["elbo"]["elbo"] < 0 and "elbo" not in saved["gan"]
    assert (in_tmp / "out" / "gan_vs_vae.md").read_text() in out
