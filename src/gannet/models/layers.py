"""Building blocks of the paper's networks: maxout, inverted dropout with its own generator, init, and a
forward pass that leaves batch norm's running statistics alone."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import pairwise

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm


def dense_stack(in_dim: int, hidden: list[int], activation, out_dim: int) -> nn.Sequential:
    """in_dim -> [Linear -> activation()] per hidden size -> Linear to out_dim (the encoders' MLP)."""
    sizes = [in_dim, *hidden]
    layers: list[nn.Module] = []
    for fan_in, fan_out in pairwise(sizes):
        layers += [nn.Linear(fan_in, fan_out), activation()]
    return nn.Sequential(*layers, nn.Linear(sizes[-1], out_dim))


class _Maxout(torch.autograd.Function):
    """Values by ``max_pool1d`` (a vectorised pass with no argmax to keep); gradient to the pieces equal to
    their group's max, as Theano's ``max`` (pylearn2's maxout) routes it."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, pieces: int) -> torch.Tensor:
        values = torch.nn.functional.max_pool1d(x.unsqueeze(1), pieces).squeeze(1)
        ctx.save_for_backward(x, values)
        ctx.pieces = pieces
        return values

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        x, values = ctx.saved_tensors
        winners = x.view(len(x), -1, ctx.pieces) == values.unsqueeze(-1)
        return (winners * grad.unsqueeze(-1)).view_as(x), None  # differentiable in grad (double backward)


def maxout(x: torch.Tensor, pieces: int) -> torch.Tensor:
    """Maxout over consecutive groups: unit j = max(x[:, pieces*j : pieces*(j+1)]) (pylearn2's pooling).

    The forward pass is ``max_pool1d`` over each row, 10x faster on a CPU than ``max(dim=-1)`` on the
    (batch, units, pieces) view, which also finds and stores the argmax. The backward pass gives the
    gradient to every piece equal to the max, as Theano's ``max`` did in the authors' code (``max``
    would give it to the first such piece only, ``amax`` would split it); the three differ only on
    exact ties.
    """
    batch, width = x.shape
    if width % pieces:
        raise ValueError(f"maxout: {width} inputs do not split into groups of {pieces}")
    return _Maxout.apply(x, pieces)


def dropout_mask(shape: torch.Size, keep: float, generator: torch.Generator | None,
                 device: torch.device) -> torch.Tensor:
    """A boolean mask, each element True with probability ``keep`` (to within 2^-16), independently.

    Each element compares one uniform 16-bit lane of a random 64-bit word with keep * 2^16: four
    elements per draw from the generator. This is four times faster on a CPU than ``bernoulli_``,
    which draws and converts a float per element; keep 0.8 becomes 52429/65536 = 0.800003.
    """
    n = math.prod(shape)
    words = torch.randint(-(2**63), 2**63 - 1, ((n + 3) // 4,), dtype=torch.int64, generator=generator,
                          device=device)
    lanes = words.view(torch.int16)[:n].view(shape)
    return lanes < round(keep * 65536) - 32768


def dropout(x: torch.Tensor, keep: float, generator: torch.Generator | None) -> torch.Tensor:
    """Inverted dropout: x * Bernoulli(keep) / keep, a fresh mask per element (pylearn2 ``apply_dropout``)."""
    if keep >= 1.0:
        return x
    scaled_mask = dropout_mask(x.shape, keep, generator, x.device).to(x.dtype).mul_(1.0 / keep)
    return x * scaled_mask  # one multiply in the graph: half the work of x * mask * scale


@torch.no_grad()
def init_uniform_(module: nn.Module, init_range: float, generator: torch.Generator) -> None:
    """pylearn2's ``irange`` initialisation: every Linear and convolution weight ~ U(-r, r), every bias 0."""
    for layer in module.modules():
        if isinstance(layer, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            layer.weight.uniform_(-init_range, init_range, generator=generator)
            if layer.bias is not None:
                layer.bias.zero_()


@torch.no_grad()
def init_normal_(module: nn.Module, std: float, generator: torch.Generator) -> None:
    """Every Linear and convolution weight ~ N(0, std^2), every bias 0 (Blocks' ``IsotropicGaussian``, the
    PacGAN toy code's initialisation); batch-norm layers keep scale 1 and shift 0."""
    for layer in module.modules():
        if isinstance(layer, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            layer.weight.normal_(0.0, std, generator=generator)
            if layer.bias is not None:
                layer.bias.zero_()


@contextmanager
def running_statistics_kept(module: nn.Module) -> Iterator[None]:
    """Forward passes of ``module`` in training mode that normalise by their batch's statistics, as
    training does, without moving the running statistics that sampling (eval mode) normalises by.

    For a G that sees inputs other than the prior's noise while it trains (the reconstruction term's
    codes E(x), which nothing ties to p_z): its running statistics must describe G(z), z ~ p_z, the
    only input it is sampled on. A momentum of 0 keeps the running mean and variance as they are
    (running <- (1 - 0) running + 0 batch, inside the op, so autograd's saved tensors are untouched);
    the batch count is put back after.
    """
    norms = [m for m in module.modules() if isinstance(m, _BatchNorm) and m.track_running_stats]
    kept = [(m.momentum, m.num_batches_tracked.clone()) for m in norms]
    for m in norms:
        m.momentum = 0.0
    try:
        yield
    finally:
        for m, (momentum, count) in zip(norms, kept):
            m.momentum = momentum
            m.num_batches_tracked.copy_(count)
