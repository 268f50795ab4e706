"""The paper's convolutional CIFAR-10 networks: the shapes paper-spec section 2 gives, and their parts."""

import pytest
import torch

from gannet.config import load_config
from gannet.models import build_discriminator, build_generator
from gannet.models.maxout_conv import DeconvGenerator, MaxoutConvDiscriminator

SHAPE = (3, 32, 32)


def test_the_deconv_generator_reshapes_to_10x10_maps_and_strides_3_to_32x32():
    G = DeconvGenerator(100, [64, 800], SHAPE, ["relu", "sigmoid"])
    assert G.maps == 8 and G.deconv.in_channels == 8 and G.deconv.kernel_size == (5, 5) and G.deconv.stride == (3, 3)
    x = G(torch.randn(5, 100))
    assert x.shape == (5, *SHAPE)
    assert isinstance(G.hidden[3], torch.nn.Sigmoid)  # the second hidden layer is the sigmoid one
    # the bias is untied: one per output pixel and channel, each with its own gradient
    assert G.untied_bias.shape == SHAPE
    x[:, 0, 0, 0].sum().backward()
    grad = G.untied_bias.grad
    assert grad[0, 0, 0] == 5 and grad.abs().sum() == 5


def test_the_paper_sizes_build_from_the_recipe():
    cfg = load_config("cifar10-2014-conv")
    G, D = build_generator(cfg, SHAPE, 0), build_discriminator(cfg, SHAPE, 1)
    assert G.maps == 80 and [m.out_features for m in G.hidden if isinstance(m, torch.nn.Linear)] == [8000, 8000]
    assert [c.out_channels for c in D.convs] == [64, 64, 384]  # 32x2, 32x2, 192x2 maps before the maxout
    assert [c.kernel_size[0] for c in D.convs] == [8, 8, 5] and [c.padding[0] for c in D.convs] == [4, 3, 3]
    # 32 -conv-> 33 -pool-> 16 -conv-> 15 -pool-> 7 -conv-> 9 -pool-> 5: 192 maps of 5x5 into maxout 500 x 5
    assert D.dense.in_features == 192 * 5 * 5 and D.dense.out_features == 500 * 5 and D.feature_dim == 500
    assert all(w.abs().max() <= 0.005 for w in (D.convs[0].weight, D.dense.weight, D.out.weight))
    assert 0.04 < G.deconv.weight.abs().max() <= 0.05


def test_the_maxout_conv_discriminator_pools_each_group_of_maps_and_drops_out_only_in_training():
    torch.manual_seed(0)
    D = MaxoutConvDiscriminator(SHAPE, [16], pieces=3).eval()
    x = torch.randn(4, *SHAPE)
    h = x  # D's features recomputed by hand: each map j is the max of maps j*pieces .. j*pieces + pieces - 1
    for conv, (maps, pieces, _, _, pool, stride) in zip(D.convs, [(32, 2, 8, 4, 4, 2), (32, 2, 8, 3, 4, 2),
                                                                  (192, 2, 5, 3, 2, 2)]):
        z = conv(h)
        z = torch.stack([torch.stack([z[:, j * pieces + i] for i in range(pieces)]).max(0).values
                         for j in range(maps)], 1)
        h = torch.nn.functional.max_pool2d(z, pool, stride, ceil_mode=True)
    dense = D.dense(h.flatten(1))
    by_hand = torch.stack([dense[:, 3 * u : 3 * u + 3].max(1).values for u in range(16)], 1)
    torch.testing.assert_close(D.features(x), by_hand)
    torch.testing.assert_close(D(x), D.out(by_hand).squeeze(1))
    assert torch.allclose(D(x[:2]), D(x)[:2], atol=1e-5)  # examples independent
    D.train()
    D.dropout_generator = torch.Generator().manual_seed(1)
    a = D(x)
    D.dropout_generator = torch.Generator().manual_seed(2)
    assert not torch.equal(a, D(x))


@pytest.mark.parametrize("build, message", [
    (lambda: DeconvGenerator(10, [64, 150], SHAPE), "multiple of 100"),
    (lambda: DeconvGenerator(10, [200], (1, 28, 28)), "3x32x32"),
    (lambda: MaxoutConvDiscriminator((3, 64, 64), [10]), "3x32x32"),
    (lambda: MaxoutConvDiscriminator(SHAPE, [10, 10]), "one size"),
])
def test_wrong_shapes_are_named(build, message):
    with pytest.raises(ValueError, match=message):
        build()
