import json

import torch

import gannet.hardware
from tests.benchmarks.conftest import load_benchmark
from tests.conftest import write_fake_mnist

TINY = ["--rounds", "1", "--steps", "4", "--warmup", "1", "--warmup-log", "2", "--peak-size", "128",
        "data.valid_size=100", "train.batch_size=8", "generator.width=4", "discriminator.width=4",
        "generator.dense=8", "discriminator.dense=8"]


def test_tiny_run_compares_gannet_with_the_plain_loop_of_the_same_networks(in_tmp, monkeypatch, capsys):
    monkeypatch.setenv("GANNET_DATA", str(in_tmp / "data"))
    write_fake_mnist(in_tmp / "data" / "mnist", n_train=400, n_test=50)
    bench = load_benchmark("dcgan_step")
    figures = bench.main([*TINY, "--json", "figures.json"])
    out = capsys.readouterr().out
    assert out.startswith("CPU capability ")
    assert figures["best"]["plain"] > 0 and figures["best"]["gannet"] > 0 and figures["flops_per_image"] > 0
    assert "gannet / plain:" in out and "of the peak" in out
    assert json.loads((in_tmp / "figures.json").read_text())["capability"] == gannet.hardware.cpu_capability()


def test_the_plain_networks_are_the_recipe_s_networks():
    """As many weights, layer by layer, as gannet's G and D of the recipe: the same work."""
    from gannet.config import load_config
    from gannet.models import build_discriminator, build_generator

    bench = load_benchmark("dcgan_step")
    cfg = load_config("dcgan-mnist")
    plain_g, plain_d = bench.plain_networks(cfg)
    G, D = build_generator(cfg, (28, 28), 0), build_discriminator(cfg, (28, 28), 0)
    for plain, ours in ((plain_g, G), (plain_d, D)):
        assert [p.numel() for p in plain.parameters()] == [p.numel() for p in ours.parameters()]
        assert plain(torch.rand(3, 1, 28, 28) if plain is plain_d else torch.randn(3, 100)).shape[0] == 3
