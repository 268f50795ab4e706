"""The paper's convolutional CIFAR-10 networks (paper-spec section 2, ``cifar10_convolutional.yaml``).

Generator ("deconvolutional"): z -> [Linear -> ReLU or sigmoid] per hidden layer (8000 ReLU, 8000
sigmoid in the paper) -> the last layer reshaped to (hidden[-1] / 100) x 10 x 10 (80 x 10 x 10) -> one
transposed convolution to 3 channels, 5x5 kernel, stride 3, no padding: (10 - 1) * 3 + 5 = 32. The
output is linear, with an untied bias (one bias per output pixel and channel, pylearn2's ``Deconv``).

Discriminator: three maxout convolutional layers (pylearn2 ``MaxoutConvC01B``), each a convolution to
channels x pieces maps, the max over each group of ``pieces`` consecutive maps, then max pooling:

    32 x 2 pieces, 8x8 kernel, pad 4, pool 4 stride 2
    32 x 2 pieces, 8x8 kernel, pad 3, pool 4 stride 2
    192 x 2 pieces, 5x5 kernel, pad 3, pool 2 stride 2

then a maxout layer of ``hidden[0]`` units x ``pieces`` (500 x 5) and one output logit. Dropout on
every layer's input: ``keep_input`` on the pixels, ``keep_hidden`` elsewhere (0.8 and 0.5). Pooled
sizes are rounded up (``ceil_mode``), as cuda-convnet's pooling, which pylearn2 calls, counts its
outputs: 32 -> 33 -> 16 -> 15 -> 7 -> 9 -> 5.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from gannet.models.base import Discriminator
from gannet.models.layers import dropout, maxout
from gannet.models.mlp import generator_body

DECONV_SIDE, DECONV_KERNEL, DECONV_STRIDE = 10, 5, 3
# (maps, pieces, kernel, pad, pool, pool stride) per maxout convolutional layer of the paper's D
MAXOUT_CONV_LAYERS = ((32, 2, 8, 4, 4, 2), (32, 2, 8, 3, 4, 2), (192, 2, 5, 3, 2, 2))


def _colour_32(data_shape: tuple[int, ...], who: str) -> None:
    if tuple(data_shape) != (3, 32, 32):
        raise ValueError(f"the paper's convolutional CIFAR-10 {who} takes 3x32x32 images; this data has shape "
                         f"{tuple(data_shape)}")


class DeconvGenerator(nn.Module):
    def __init__(self, noise_dim: int, hidden: list[int], data_shape: tuple[int, ...],
                 activations: list[str] | None = None):
        super().__init__()
        _colour_32(data_shape, "generator (generator.arch: deconv)")
        side_area = DECONV_SIDE**2
        if hidden[-1] % side_area:
            raise ValueError(f"generator.hidden: the last hidden layer ({hidden[-1]}) is reshaped to maps of "
                             f"{DECONV_SIDE}x{DECONV_SIDE}, so it must be a multiple of {side_area}")
        self.data_shape = tuple(data_shape)
        self.hidden = generator_body(noise_dim, hidden, activations)
        self.maps = hidden[-1] // side_area
        self.deconv = nn.ConvTranspose2d(self.maps, data_shape[0], DECONV_KERNEL, DECONV_STRIDE, 0, bias=False)
        self.untied_bias = nn.Parameter(torch.zeros(self.data_shape))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.hidden(z).view(-1, self.maps, DECONV_SIDE, DECONV_SIDE)  # -1: traces keep the batch free
        return self.deconv(h) + self.untied_bias


class MaxoutConvDiscriminator(Discriminator):
    def __init__(self, data_shape: tuple[int, ...], hidden: list[int], pieces: int = 5, keep_input: float = 0.8,
                 keep_hidden: float = 0.5):
        super().__init__()
        _colour_32(data_shape, "discriminator (discriminator.arch: maxout-conv)")
        if len(hidden) != 1:
            raise ValueError(f"discriminator.hidden: the maxout-conv D has one maxout layer after its "
                             f"convolutions, so hidden must have one size (the paper's [500]); got {hidden}")
        self.convs = nn.ModuleList()
        self.pools: list[tuple[int, int]] = []
        channels, side = data_shape[0], data_shape[1]
        for maps, conv_pieces, kernel, pad, pool, stride in MAXOUT_CONV_LAYERS:
            self.convs.append(nn.Conv2d(channels, maps * conv_pieces, kernel, 1, pad))
            self.pools.append((pool, stride))
            side = math.ceil((side + 2 * pad - kernel + 1 - pool) / stride) + 1
            channels = maps
        self.conv_pieces = [layer[1] for layer in MAXOUT_CONV_LAYERS]
        self.pieces = pieces
        self.dense = nn.Linear(channels * side * side, hidden[0] * pieces)
        self.out = nn.Linear(hidden[0], 1)
        self.keep = [keep_input] + [keep_hidden] * (len(self.convs) + 1)
        self.feature_dim = hidden[0]  # the maxout layer (InfoGAN's Q reads it)

    def _drop(self, x: torch.Tensor, keep: float) -> torch.Tensor:
        return dropout(x, keep, self.dropout_generator) if self.training else x

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The maxout layer's activations, (N, hidden[0]), with dropout on every layer's input."""
        h = x
        for conv, pieces, (pool, stride), keep in zip(self.convs, self.conv_pieces, self.pools, self.keep):
            z = conv(self._drop(h, keep))
            n, c, height, width = z.shape
            z = z.view(n, c // pieces, pieces, height, width).amax(2)  # maxout over consecutive maps
            h = nn.functional.max_pool2d(z, pool, stride, ceil_mode=True)
        return maxout(self.dense(self._drop(h.flatten(1), self.keep[-2])), self.pieces)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The logits a(x), shape (N,)."""
        return self.out(self._drop(self.features(x), self.keep[-1])).squeeze(1)
