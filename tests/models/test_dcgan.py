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
