"""The DCGAN networks: shapes for every supported image size, the paper's init, batch statistics."""

import pytest
import torch

from gannet.config import ConfigError, load_config
from gannet.models import build_discriminator, build_generator

DCGAN = ["generator.arch=dcgan", "discriminator.arch=dcgan", "generator.output_bias=zero", "noise.dim=16",
         "generator.width=8", "discriminator.width=8"]


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32), (3, 64, 64), (28, 28)])
def test_generator_makes_images_discriminator_gives_one_output_each(shape):
    cfg = load_config("digits", DCGAN)
    G, D = build_generator(cfg, shape, 0), build_discriminator(cfg, shape, 0)
    x = G(torch.rand(5, 16))
    assert x.shape == (5, *shape) and 0 <= x.min() and x.max() <= 1
    assert D(x).shape == (5,)
    assert D.batch_statistics  # the steps then pass real and fake as separate batches


def test_the_paper_init_and_the_batch_norm_switch():
    cfg = load_config("digits", [*DCGAN, "discriminator.batch_norm=false", "generator.width=64"])
    G = build_generator(cfg, (3, 64, 64), 0)
    conv = [m for m in G.modules() if isinstance(m, torch.nn.ConvTranspose2d)][1]
    assert abs(conv.weight.std().item() - 0.02) < 0.001 and abs(conv.weight.mean().item()) < 0.001
    bn = [m for m in G.modules() if isinstance(m, torch.nn.BatchNorm2d)][0]
    assert abs(bn.weight.mean().item() - 1) < 0.01
    D = build_discriminator(cfg, (3, 64, 64), 0)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in D.modules()) and not D.batch_statistics
    # same seed, same networks
    assert all(torch.equal(a, b) for a, b in zip(G.state_dict().values(), build_generator(cfg, (3, 64, 64), 0)
                                                 .state_dict().values()))


def test_unsupported_shapes_and_options_are_refused():
    cfg = load_config("digits", DCGAN)
    with pytest.raises(ValueError, match="square images of side 28, 32, 64"):
        build_generator(cfg, (1, 8, 8), 0)
    with pytest.raises(ConfigError, match="output_bias"):
        load_config("digits", ["generator.arch=dcgan"])


def test_a_dense_layer_gives_infogans_mnist_networks():
    """generator.dense / discriminator.dense: Chen et al. 2016, Table 1 (FC 1024 in G and in D)."""
    cfg = load_config("dcgan-mnist", ["generator.dense=32", "discriminator.dense=24", "generator.width=8",
                                      "discriminator.width=8"])
    G, D = build_generator(cfg, (28, 28), 0), build_discriminator(cfg, (28, 28), 1)
    dense_g = G.net[0]
    assert isinstance(dense_g, torch.nn.Conv2d) and (dense_g.in_channels, dense_g.out_channels) == (100, 32)
    assert isinstance(G.net[1], torch.nn.BatchNorm2d) and G.net[3].in_channels == 32
    x = G(torch.randn(5, 100))
    assert x.shape == (5, 28, 28)
    assert D.feature_dim == 24 and D.features(x).shape == (5, 24) and D(x).shape == (5,)
    # the dense layer covers the whole last map (7x7), so it is fully connected; D's output reads only it
    assert D.net[-4].kernel_size == (7, 7) and D.net[-1].in_channels == 24 and D.net[-1].kernel_size == (1, 1)
    plain = build_discriminator(load_config("dcgan-mnist", ["discriminator.width=8", "discriminator.dense=null"]),
                                (28, 28), 1)
    assert plain.feature_dim == 16 * 7 * 7
    critic = build_discriminator(load_config("wgan-gp-mnist", ["discriminator.dense=24", "discriminator.width=8"]),
                                 (28, 28), 1)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in critic.modules())


def test_extra_stages_deepen_the_critic_as_the_wgan_gp_authors_mnist_one():
    """extra_stages=1: 28x28 -> 14 -> 7 -> 3, channels width, 2 width, 4 width (Gulrajani et al. 2017, code)."""
    cfg = load_config("wgan-gp-mnist", ["discriminator.width=8", "discriminator.extra_stages=1"])
    D = build_discriminator(cfg, (28, 28), 0)
    convs = [m for m in D.net if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [8, 16, 32, 1]
    assert convs[-1].kernel_size == (3, 3) and D.feature_dim == 32 * 3 * 3
    x = torch.rand(5, 28, 28)
    assert D(x).shape == (5,) and D.features(x).shape == (5, 32 * 9)
    dense = build_discriminator(load_config("dcgan-mnist", ["discriminator.width=8", "discriminator.dense=12",
                                                             "discriminator.extra_stages=1"]), (28, 28), 0)
    assert dense(x).shape == (5,) and dense.features(x).shape == (5, 12)
    with pytest.raises(ValueError, match="extra_stages: 3 more stride-2 convolutions would shrink the 7x7 map"):
        build_discriminator(load_config("wgan-gp-mnist", ["discriminator.extra_stages=3"]), (28, 28), 0)
    with pytest.raises(ConfigError, match="extra_stages: an option of arch: dcgan"):
        load_config("mnist-2014", ["discriminator.extra_stages=1"])


def test_tanh_output_and_a_centred_d_input_are_the_papers_networks_on_unit_images():
    """generator.output=tanh gives (1 + tanh(a)) / 2 on [0, 1]; discriminator.centre_input makes D read
    2x - 1: together the paper's [-1, 1] networks, computed on gannet's [0, 1] images."""
    base = ["generator.width=8", "discriminator.width=8", "generator.dense=null", "discriminator.dense=null"]
    tanh = load_config("dcgan-mnist", [*base, "generator.output=tanh", "discriminator.centre_input=true"])
    sigmoid = load_config("dcgan-mnist", base)
    z = torch.randn(6, 100)
    G_t, G_s = build_generator(tanh, (28, 28), 0), build_generator(sigmoid, (28, 28), 0)
    with torch.no_grad():
        pre = G_s.net(z.reshape(6, -1, 1, 1)).reshape(6, 28, 28)
        torch.testing.assert_close(G_t(z), (torch.tanh(pre) + 1) / 2)
        D_c, D_u = build_discriminator(tanh, (28, 28), 1), build_discriminator(sigmoid, (28, 28), 1)
        x = torch.rand(6, 28, 28)
        torch.testing.assert_close(D_c(x), D_u(2 * x - 1))
        assert not torch.allclose(D_c(x), D_u(x))
    with pytest.raises(ConfigError, match="tanh"):
        load_config("mnist-2014", ["generator.output=tanh"])
    with pytest.raises(ConfigError, match="centre_input"):
        load_config("mnist-2014", ["discriminator.centre_input=true"])


def test_fully_connected_convolutions_are_matrix_products_of_the_same_function():
    """FullConv2d and PointConvTranspose2d compute the convolution they subclass (outputs and
    gradients), as one matrix product, with the weights in the convolution's shape."""
    from torch import nn

    from gannet.models.dcgan import FullConv2d, PointConvTranspose2d

    torch.manual_seed(0)
    for ours, parent, x in ((FullConv2d(6, 5, 3), nn.Conv2d, torch.randn(4, 6, 3, 3)),
                            (FullConv2d(6, 5, 1, bias=False), nn.Conv2d, torch.randn(4, 6, 1, 1)),
                            (PointConvTranspose2d(6, 5, 7, bias=False), nn.ConvTranspose2d, torch.randn(4, 6, 1, 1)),
                            (PointConvTranspose2d(6, 5, 3), nn.ConvTranspose2d, torch.randn(4, 6, 1, 1))):
        a, b = x.clone().requires_grad_(), x.clone().requires_grad_()
        fast, slow = ours(a), parent.forward(ours, b)
        torch.testing.assert_close(fast, slow, rtol=1e-5, atol=1e-6)
        (fast * torch.arange(fast.numel()).reshape(fast.shape)).sum().backward()
        grad_fast = ours.weight.grad.clone()
        ours.weight.grad = None
        (slow * torch.arange(slow.numel()).reshape(slow.shape)).sum().backward()
        torch.testing.assert_close(grad_fast, ours.weight.grad, rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-4, atol=1e-4)
    wider = FullConv2d(6, 5, 3)  # an input larger than the kernel: an ordinary convolution
    torch.testing.assert_close(wider(torch.ones(2, 6, 5, 5)), nn.Conv2d.forward(wider, torch.ones(2, 6, 5, 5)))
