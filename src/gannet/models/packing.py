"""PacGAN's packed discriminator (Lin et al. 2018): D judges m samples at once.

A packed D reads m samples concatenated into one input, all real or all generated, and gives one logit
for the group. A G that puts its mass on few modes makes groups of look-alike samples, which real groups
never are, so packing penalises collapse through D alone: G, the loss and the training step are
unchanged (PacGAN, Section 3). Consecutive rows of a batch form a group, so a batch of real images
followed by a batch of fakes is packed real with real and fake with fake.
"""

from __future__ import annotations

import torch

from gannet.models.base import Discriminator


def packed_shape(data_shape: tuple[int, ...], pack: int) -> tuple[int, ...]:
    """The shape of one packed input: m samples concatenated along the first (channel or feature) axis."""
    return (data_shape[0] * pack, *data_shape[1:])


class PackedDiscriminator(Discriminator):
    """``inner`` (built for :func:`packed_shape` inputs) applied to groups of ``pack`` consecutive samples:
    (N, C, ...) -> (N / pack, pack * C, ...) -> N / pack outputs."""

    def __init__(self, inner: Discriminator, pack: int):
        super().__init__()
        self.inner = inner
        self.pack = pack
        self.batch_statistics = inner.batch_statistics

    @property
    def dropout_generator(self) -> torch.Generator | None:
        return self.inner.dropout_generator

    @dropout_generator.setter
    def dropout_generator(self, generator: torch.Generator | None) -> None:
        self.inner.dropout_generator = generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if len(x) % self.pack:
            raise ValueError(f"a discriminator packing {self.pack} samples got a batch of {len(x)}, not a multiple "
                             f"of {self.pack}")
        return self.inner(x.reshape(len(x) // self.pack, self.pack * x.shape[1], *x.shape[2:]))
