"""Networks, built from a config by :func:`build_generator` and :func:`build_discriminator`."""

from __future__ import annotations

import math
from contextlib import contextmanager

import torch
from torch import nn

from gannet.config import Config
from gannet.models.base import Discriminator
from gannet.models.code_head import attach_code_head
from gannet.models.dcgan import DCGANDiscriminator, DCGANGenerator, init_dcgan_
from gannet.models.layers import init_normal_, init_uniform_
from gannet.models.maxout_conv import DeconvGenerator, MaxoutConvDiscriminator
from gannet.models.mlp import MLPDiscriminator, MLPGenerator
from gannet.models.packing import PackedDiscriminator, packed_shape
from gannet.noise import latent_size
from gannet.seeding import derive_seed


def build_generator(cfg: Config, data_shape: tuple[int, ...], seed: int) -> nn.Module:
    g = cfg.generator
    if g.arch == "dcgan":
        net = DCGANGenerator(latent_size(cfg.noise), data_shape, g.width, g.output, g.dense)
        return init_dcgan_(net, torch.Generator().manual_seed(seed))
    with torch.random.fork_rng(devices=[]):  # PyTorch's default init, when init_range is null
        torch.manual_seed(seed)
        if g.arch == "deconv":
            net = DeconvGenerator(latent_size(cfg.noise), g.hidden, data_shape, g.activations)
        else:
            net = MLPGenerator(latent_size(cfg.noise), g.hidden, data_shape, g.output, g.activations, g.batch_norm)
    if g.init_std is not None:
        init_normal_(net, g.init_std, torch.Generator().manual_seed(seed))
    if g.init_range is not None:
        init_uniform_(net, g.init_range, torch.Generator().manual_seed(seed))
        if g.output_init_range is not None and g.arch == "mlp":
            init_uniform_(net.out, g.output_init_range, torch.Generator().manual_seed(derive_seed(seed, "output")))
    return net


def build_discriminator(cfg: Config, data_shape: tuple[int, ...], seed: int) -> Discriminator:
    """D for ``cfg``, with InfoGAN's head Q (``code_head``) when ``loss.info`` is on."""
    return attach_code_head(_discriminator(cfg, data_shape, seed), cfg, derive_seed(seed, "code-head"))


class NoDiscriminator(Discriminator):
    """The D of a run without one (``discriminator.arch: none``, a VAE): it holds one empty parameter, so
    that optimisers and checkpoints treat every run alike, and refuses to be called."""

    def __init__(self):
        super().__init__()
        self.empty = nn.Parameter(torch.zeros(0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("this run has no discriminator (discriminator.arch: none)")


def _discriminator(cfg: Config, data_shape: tuple[int, ...], seed: int) -> Discriminator:
    d = cfg.discriminator
    if d.arch == "none":
        return NoDiscriminator()
    if d.pack > 1:
        return PackedDiscriminator(_single_discriminator(cfg, packed_shape(data_shape, d.pack), seed), d.pack)
    return _single_discriminator(cfg, data_shape, seed)


def _single_discriminator(cfg: Config, data_shape: tuple[int, ...], seed: int) -> Discriminator:
    """D for one input of ``data_shape`` (a packed D's inner network reads its packed shape)."""
    d = cfg.discriminator
    if d.arch == "dcgan":
        net = init_dcgan_(DCGANDiscriminator(data_shape, d.width, d.batch_norm, d.dense, d.centre_input,
                                             d.extra_stages), torch.Generator().manual_seed(seed))
        return spectral_normalise_(net, seed) if d.spectral_norm else net
    activation = "maxout" if d.arch == "maxout" else "leaky_relu"
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if d.arch == "maxout-conv":
            net = MaxoutConvDiscriminator(data_shape, d.hidden, d.pieces, d.keep_input, d.keep_hidden)
        else:
            net = MLPDiscriminator(math.prod(data_shape), d.hidden, activation, d.pieces, d.keep_input,
                                   d.keep_hidden, d.minibatch_std, d.slope, groups=d.pack,
                                   shared_layers=d.pack_shared_layers)
    if d.init_std is not None:
        init_normal_(net, d.init_std, torch.Generator().manual_seed(seed))
    if d.init_range is not None:
        init_uniform_(net, d.init_range, torch.Generator().manual_seed(seed))
    if d.spectral_norm:
        spectral_normalise_(net, seed)
    return net


def spectral_normalise_(net: nn.Module, seed: int) -> nn.Module:
    """Divide every Linear and convolution weight of ``net`` by its largest singular value, estimated by
    one power iteration per training forward pass (Miyato et al. 2018), through PyTorch's
    ``parametrizations.spectral_norm``. The power iteration's start vector is drawn from ``seed``."""
    from torch.nn.utils.parametrizations import spectral_norm

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for module in list(net.modules()):
            if isinstance(module, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
                spectral_norm(module)
    return net


def networks_from_state(state: dict) -> tuple[Config, nn.Module, nn.Module | None]:
    """The config and the trained G and D (eval mode, CPU) of a checkpoint state; D is None in a
    generator-only file (:func:`gannet.checkpoint.generator_only`)."""
    from gannet.checkpoint import CheckpointError, load_weights, source_of
    from gannet.config import ConfigError, validate

    try:
        cfg = validate(state["config"], f"config saved in {source_of(state)}")
        shape = tuple(int(n) for n in state["data_shape"])
    except (ConfigError, TypeError, ValueError) as err:
        raise CheckpointError(f"{source_of(state)}: {err}") from None
    G = build_generator(cfg, shape, 0)
    ema = state.get("generator_ema")
    load_weights(G, ema or state["generator"], "generator" if ema is None else "generator average", state)
    if "discriminator" not in state:
        return cfg, G.eval(), None
    D = build_discriminator(cfg, shape, 0)
    load_weights(D, state["discriminator"], "discriminator", state)
    return cfg, G.eval(), D.eval()


@contextmanager
def evaluating(net: nn.Module):
    """``net`` in eval mode under ``torch.no_grad`` for the block, then back in its former mode."""
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            yield net
    finally:
        net.train(was_training)


def count_parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


__all__ = ["DCGANDiscriminator", "DCGANGenerator", "DeconvGenerator", "Discriminator", "MLPDiscriminator",
           "MLPGenerator", "MaxoutConvDiscriminator", "PackedDiscriminator", "build_discriminator", "build_generator",
           "count_parameters", "evaluating", "networks_from_state"]
