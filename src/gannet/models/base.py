"""What every discriminator provides: the contract the training steps, InfoGAN and checkpoints rely on.

A D maps a batch x (N, *data_shape) to one output per example, shape (N,) (a logit, or the critic's
score for the Wasserstein losses), or one per pack of ``pack`` examples. Besides ``forward``:

- ``dropout_generator``: the ``torch.Generator`` its dropout masks are drawn from. The trainer sets it
  from the run's seed and saves its state in checkpoints, so a resumed run draws the same masks. A D
  without dropout keeps it and never reads it.
- ``batch_statistics``: whether one example's output depends on the rest of its batch (batch norm,
  minibatch standard deviation). The steps then pass real and fake as two batches, never one.
- ``pack``: examples per output (PacGAN, :mod:`gannet.models.packing`); 1 for every other D.
- ``feature_dim`` and ``features(x)``: D's last hidden features, (N, feature_dim), which InfoGAN's Q
  reads (:mod:`gannet.models.code_head`); ``feature_dim`` is None for a D that has none to offer.

None of these are weights: they are not in D's ``state_dict``, so checkpoints hold only tensors.
"""

from __future__ import annotations

import torch
from torch import nn


class Discriminator(nn.Module):
    """The base of gannet's discriminators; the class attributes are the defaults (see the module)."""

    dropout_generator: torch.Generator | None = None
    batch_statistics: bool = False
    pack: int = 1
    feature_dim: int | None = None

    def features(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no hidden features for InfoGAN's Q to read")


def discriminator_of(module: nn.Module) -> nn.Module:
    """The network inside a DistributedDataParallel wrapper, or ``module`` itself."""
    return getattr(module, "module", module)


DECLARED = ("dropout_generator", "batch_statistics", "pack", "feature_dim")


def declared(module: nn.Module, name: str):
    """``module``'s value of one of the :class:`Discriminator` attributes (inside a DDP wrapper too). A
    plain ``nn.Module`` used as D (an extension's, a test's) gets the base class's defaults."""
    if name not in DECLARED:
        raise AttributeError(f"{name!r} is not one of what a discriminator declares ({', '.join(DECLARED)})")
    return getattr(discriminator_of(module), name, getattr(Discriminator, name))
