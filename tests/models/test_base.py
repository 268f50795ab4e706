"""Every discriminator gannet builds provides the contract of gannet.models.base.Discriminator."""

import pytest
import torch

from gannet.config import load_config
from gannet.models import build_discriminator
from torch import nn

from gannet.models.base import Discriminator, declared, discriminator_of


@pytest.mark.parametrize("recipe, overrides, shape", [
    ("mnist-2014", [], (1, 28, 28)),  # maxout MLP with dropout
    ("dcgan-mnist", [], (1, 28, 28)),  # batch norm
    ("infogan-mnist", [], (1, 28, 28)),  # Q reads D's features
    ("cifar10-2014-conv", [], (3, 32, 32)),  # maxout convolutions
    ("toy-ring-pacgan", [], (2,)),  # packed
    ("toy-ring", ["discriminator.minibatch_std=true"], (2,)),
    ("vae-mnist", [], (1, 28, 28)),  # no D at all
])
def test_every_discriminator_declares_what_the_steps_read(recipe, overrides, shape):
    cfg = load_config(recipe, overrides)
    D = build_discriminator(cfg, shape, 0)
    assert isinstance(D, Discriminator) and discriminator_of(D) is D
    assert isinstance(D.batch_statistics, bool) and D.pack == cfg.discriminator.pack
    assert D.batch_statistics == (cfg.discriminator.arch == "dcgan" and cfg.discriminator.batch_norm
                                  or cfg.discriminator.minibatch_std)
    stream = torch.Generator().manual_seed(1)
    D.dropout_generator = stream  # the trainer's assignment reaches the network that draws the masks
    inner = getattr(D, "inner", D)
    assert D.dropout_generator is stream and inner.dropout_generator is stream
    assert all(isinstance(v, torch.Tensor) for v in D.state_dict().values())  # checkpoints hold tensors only
    if cfg.loss.info > 0:
        x = torch.rand(4, *shape)
        assert D.features(x).shape == (4, D.feature_dim) and D.code_head is not None
    if cfg.discriminator.arch == "none":
        with pytest.raises(NotImplementedError, match="no hidden features"):
            D.features(torch.rand(2, *shape))


def test_a_plain_module_used_as_d_gets_the_declared_defaults():
    plain = nn.Sequential(nn.Linear(2, 1), nn.Flatten(0))
    assert declared(plain, "batch_statistics") is False and declared(plain, "pack") == 1
    packed = build_discriminator(load_config("toy-ring-pacgan"), (2,), 0)
    wrapper = nn.Module()
    wrapper.module = packed  # as DistributedDataParallel holds it
    assert declared(wrapper, "pack") == packed.pack > 1
    with pytest.raises(AttributeError, match="not one of what a discriminator declares"):
        declared(plain, "weight")
