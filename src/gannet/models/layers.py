"""Building blocks of the paper's networks: maxout, inverted dropout with its own generator, init."""

from __future__ import annotations

import torch
from torch import nn


def maxout(x: torch.Tensor, pieces: int) -> torch.Tensor:
    """Maxout over consecutive groups: unit j = max(x[:, pieces*j : pieces*(j+1)]) (pylearn2's pooling)."""
    batch, width = x.shape
    return x.view(batch, width // pieces, pieces).amax(dim=-1)


def dropout(x: torch.Tensor, keep: float, generator: torch.Generator | None) -> torch.Tensor:
    """Inverted dropout: x * Bernoulli(keep) / keep, a fresh mask per element (pylearn2 ``apply_dropout``)."""
    if keep >= 1.0:
        return x
    mask = torch.empty_like(x).bernoulli_(keep, generator=generator)
    return x * mask * (1.0 / keep)


@torch.no_grad()
def init_uniform_(module: nn.Module, init_range: float, generator: torch.Generator) -> None:
    """pylearn2's ``irange`` initialisation: every Linear weight ~ U(-r, r), every bias 0."""
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            layer.weight.uniform_(-init_range, init_range, generator=generator)
            if layer.bias is not None:
                layer.bias.zero_()
