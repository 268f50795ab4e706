import math

import pytest
import torch

from gannet.config import load_config
from gannet.models import build_discriminator, build_generator, count_parameters
from gannet.models.mlp import MLPDiscriminator, MLPGenerator


def test_paper_mnist_networks_have_the_papers_shapes_and_init():
    cfg = load_config("mnist-2014")
    G = build_generator(cfg, (1, 28, 28), seed=0)
    D = build_discriminator(cfg, (1, 28, 28), seed=0)
    assert [m.weight.shape for m in G.modules() if isinstance(m, torch.nn.Linear)] == [
        (1200, 100), (1200, 1200), (784, 1200)]
    assert [m.weight.shape for m in D.modules() if isinstance(m, torch.nn.Linear)] == [
        (1200, 784), (1200, 240), (1, 240)]
    assert count_parameters(G) == 100 * 1200 + 1200 + 1200 * 1200 + 1200 + 1200 * 784 + 784
    assert max(p.abs().max().item() for n, p in G.named_parameters() if "weight" in n) <= 0.05
    assert max(p.abs().max().item() for n, p in D.named_parameters() if "weight" in n) <= 0.005
    assert G(torch.zeros(3, 100)).shape == (3, 1, 28, 28)
    D.eval()
    assert D(torch.zeros(3, 1, 28, 28)).shape == (3,)


def test_output_bias_from_marginals():
    G = MLPGenerator(4, [8], (1, 2, 2))
    train = torch.tensor([[0.0, 0.5, 1.0, 0.25], [0.0, 0.5, 1.0, 0.75]]).view(2, 1, 2, 2)
    G.set_output_bias_from_marginals(train)
    b = G.out.bias
    assert b[0].item() == pytest.approx(math.log(1e-7) - math.log1p(-1e-7), rel=1e-6)  # about -16.12
    assert b[0].item() == pytest.approx(-16.118, abs=1e-3)
    assert b[1].item() == pytest.approx(0.0, abs=1e-7) and b[3].item() == pytest.approx(0.0, abs=1e-7)
    assert b[2].item() == pytest.approx(16.118, abs=1e-3)


def test_maxout_discriminator_computes_the_papers_function():
    D = MLPDiscriminator(3, [2], activation="maxout", pieces=2, keep_input=0.8, keep_hidden=0.5)
    D.eval()
    x = torch.randn(5, 3)
    z = D.layers[0](x)
    h = torch.stack([z[:, 0:2].max(1).values, z[:, 2:4].max(1).values], 1)
    assert torch.allclose(D(x), D.out(h).squeeze(1))


def test_dropout_only_in_training_and_independent_per_example():
    D = MLPDiscriminator(20, [10, 10], pieces=5)
    x = torch.randn(1, 20).repeat(64, 1)
    D.eval()
    assert torch.allclose(D(x), D(x)[0].expand(64))
    D.train()
    D.dropout_generator = torch.Generator().manual_seed(0)
    out = D(x)
    assert out.unique().numel() > 32  # every example drew its own masks


def test_minibatch_std_feeds_the_batch_spread_to_the_output_and_tells_a_collapsed_batch_apart():
    from gannet.models.mlp import MLPDiscriminator

    torch.manual_seed(0)
    D = MLPDiscriminator(2, [16], "maxout", 3, 1.0, 1.0, minibatch_std=True).eval()
    assert D.batch_statistics and D.out.in_features == 16 + 1
    with torch.no_grad():
        D.out.weight.zero_()
        D.out.weight[0, -1] = 1.0  # the logit is the spread feature alone
        D.out.bias.zero_()
    spread = D(torch.randn(64, 2))
    collapsed = D(torch.zeros(64, 2) + 0.3)
    assert torch.allclose(spread, spread[:1].expand(64)) and spread[0] > 0  # one number shared by the batch
    assert torch.allclose(collapsed, torch.zeros(64))  # identical samples: no spread at all


def test_batch_norm_generator_and_normal_initialisation():
    from gannet.config import load_config
    from gannet.models import build_discriminator, build_generator

    cfg = load_config("toy-grid-gan")
    G = build_generator(cfg, (2,), seed=0)
    norms = [m for m in G.modules() if isinstance(m, torch.nn.BatchNorm1d)]
    assert len(norms) == 4 and all(m.momentum == 0.05 for m in norms)
    linears = [m for m in G.modules() if isinstance(m, torch.nn.Linear)]
    assert [m.bias is None for m in linears] == [True] * 4 + [False]  # batch norm's shift is the bias
    big = linears[1].weight  # 400 x 400 weights ~ N(0, 0.02^2)
    assert abs(big.std().item() - 0.02) < 0.001 and abs(big.mean().item()) < 0.001
    D = build_discriminator(cfg, (2,), seed=0)
    assert abs(D.layers[1].weight.std().item() - 0.02) < 0.001 and D.layers[1].bias.abs().max() == 0
    G.eval()  # sampling uses the running statistics: one sample does not depend on the rest of the batch
    z = torch.randn(8, 2)
    assert torch.allclose(G(z)[:1], G(z[:1]), atol=1e-6)
