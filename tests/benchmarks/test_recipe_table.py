import json

from gannet.features.classifier import save_classifier, train_classifier
from tests.benchmarks.conftest import load_benchmark
from tests.conftest import write_fake_mnist


def tiny_data_and_classifier(base, monkeypatch):
    """Fake MNIST under $GANNET_DATA and a classifier trained on 200 of its images in $GANNET_CACHE."""
    root = write_fake_mnist(base / "data" / "mnist", n_train=400, n_test=60)
    monkeypatch.setenv("GANNET_DATA", str(base / "data"))
    monkeypatch.setenv("GANNET_CACHE", str(base / "cache"))
    save_classifier(train_classifier("mnist", root, epochs=1, limit=200))


def test_smoke_plan_trains_and_scores_a_gan_and_the_vae(in_tmp, monkeypatch, capsys):
    """Two rows of the plan (the GAN and the VAE paths; the others take longer to train, even small)."""
    tiny_data_and_classifier(in_tmp, monkeypatch)
    bench = load_benchmark("recipe_table")
    models = ["mnist-2014", "vae"]
    bench.main(["--smoke", "--only", *models, "--datasets", "mnist", "--out", "recipes"])
    out = capsys.readouterr().out
    assert out.startswith("CPU capability ")
    results = json.loads((in_tmp / "recipes" / "smoke" / "recipe_table.json").read_text())
    assert sorted(results) == [f"{model}@mnist" for model in models]
    assert all(r["step"] == 20 and r["samples"] == 500 for r in results.values())
    for model in models:
        assert f"| {model} | mnist | 20 |" in out
    assert "ELBO" in out and "importance-weighted" in out  # the VAE's note
    assert "| mnist-2014 | mnist | G's own weights |" in out  # the sampling-G table: no moving average here
    assert results["mnist-2014@mnist"]["classifier"]["generated"]["classes"] == 10
