"""The convolutional networks of DCGAN (Radford et al. 2016), for 28x28, 32x32 and 64x64 images.

Generator: z -> transposed convolution to a 4x4 (7x7 for 28x28) map of ``width * 2**(stages - 1)``
channels (8x width for 64x64, 4x for 32x32, 2x for 28x28) -> [stride-2 transposed convolution ->
batch norm -> ReLU], halving the channels and doubling the size, up to the image. The output is sigmoid (gannet keeps images in [0, 1]; the paper's
tanh on [-1, 1] is the same map up to an affine change), ``tanh``: (1 + tanh(a)) / 2 = sigmoid(2a), the
paper's tanh output mapped onto [0, 1], or linear. ``centre_input`` makes D read 2x - 1: with a tanh G
the two networks then compute exactly the paper's functions on the paper's [-1, 1] images, while data,
samples and metrics stay on [0, 1].

Discriminator: [stride-2 convolution -> batch norm -> LeakyReLU(0.2)] halving the size and doubling
the channels (no batch norm on the first layer, as in the paper), then one convolution over the last
map to one output. ``batch_norm=False`` drops batch norm, as a critic with a gradient penalty should
(Gulrajani et al. 2017): the penalty is per sample, batch statistics couple the samples.
``extra_stages`` adds that many stride-2 convolutions after the 7x7 (28x28 images) or 4x4 map, each
halving its side (rounding down) and doubling the channels: one gives the depth of the WGAN-GP
authors' MNIST critic (their code: convolutions of 64, 128 and 256 channels).

``dense`` adds a fully connected layer of that many units, with batch norm: in G between the latent
and the first feature map (ReLU), in D after the last convolution (LeakyReLU), as in InfoGAN's MNIST
networks (Chen et al. 2016, Table 1: 1024 units each). It is written as a 1x1 (G) or full-map (D)
convolution, which is the same map.

Weights are initialised from N(0, 0.02), batch-norm scales from N(1, 0.02), biases 0 (the paper's).
Data shape (H, W) is grey, (C, H, W) has C channels.
"""

from __future__ import annotations

import torch
from torch import nn

from gannet.models.base import Discriminator

SIZES = {28: 7, 32: 4, 64: 4}  # image side -> side of the smallest feature map


def _geometry(data_shape: tuple[int, ...]) -> tuple[int, int, int]:
    """(channels, side, number of stride-2 stages) of a DCGAN-able image shape."""
    if len(data_shape) == 2:
        channels, (h, w) = 1, data_shape
    elif len(data_shape) == 3:
        channels, h, w = data_shape
    else:
        raise ValueError(f"the DCGAN networks need images (H, W) or (C, H, W); this data has shape {data_shape}")
    if h != w or h not in SIZES:
        raise ValueError(f"the DCGAN networks take square images of side {', '.join(map(str, SIZES))}; "
                         f"this data has shape {data_shape} (use the mlp networks)")
    stages, side = 0, h
    while side > SIZES[h]:
        side //= 2
        stages += 1
    return channels, h, stages


class FullConv2d(nn.Conv2d):
    """A convolution whose kernel covers its whole input map (no padding, stride 1): a fully connected
    layer, computed as one matrix product. The weights keep the convolution's shape (and so checkpoints
    their layout); PyTorch's CPU convolution is about half as fast on such shapes."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2:] != self.kernel_size:
            return super().forward(x)
        out = torch.nn.functional.linear(x.flatten(1), self.weight.flatten(1), self.bias)
        return out.reshape(x.shape[0], self.out_channels, 1, 1)


class PointConvTranspose2d(nn.ConvTranspose2d):
    """A transposed convolution from a 1x1 input map (no padding, stride 1) to a k x k map: a fully
    connected layer, computed as one matrix product, weights in the transposed convolution's shape."""

    def forward(self, x: torch.Tensor, output_size=None) -> torch.Tensor:
        if x.shape[-2:] != (1, 1) or output_size is not None:
            return super().forward(x, output_size)
        out = torch.mm(x.flatten(1), self.weight.flatten(1)).reshape(x.shape[0], self.out_channels, *self.kernel_size)
        return out if self.bias is None else out + self.bias.reshape(1, -1, 1, 1)


def init_dcgan_(net: nn.Module, generator: torch.Generator) -> nn.Module:
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                m.weight.normal_(0.0, 0.02, generator=generator)
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.normal_(1.0, 0.02, generator=generator)
                m.bias.zero_()
    return net


class DCGANGenerator(nn.Module):
    def __init__(self, noise_dim: int, data_shape: tuple[int, ...], width: int = 64, output: str = "sigmoid",
                 dense: int | None = None):
        super().__init__()
        self.data_shape = tuple(data_shape)
        channels, side, stages = _geometry(self.data_shape)
        first = width * 2 ** (stages - 1)
        layers: list[nn.Module] = []
        if dense:  # InfoGAN's MNIST G: a fully connected layer before the first feature map
            layers += [FullConv2d(noise_dim, dense, 1, bias=False), nn.BatchNorm2d(dense), nn.ReLU(True)]
            noise_dim = dense
        layers += [PointConvTranspose2d(noise_dim, first, SIZES[side], 1, 0, bias=False),
                   nn.BatchNorm2d(first), nn.ReLU(True)]
        c = first
        for _ in range(stages - 1):
            layers += [nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(c // 2), nn.ReLU(True)]
            c //= 2
        layers.append(nn.ConvTranspose2d(c, channels, 4, 2, 1))
        self.net = nn.Sequential(*layers)
        self.output = output

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.net(z.reshape(z.shape[0], -1, 1, 1))  # shape[0], not len(): traces keep the batch free
        if self.output == "sigmoid":
            x = torch.sigmoid(x)
        elif self.output == "tanh":  # the paper's tanh on [-1, 1], mapped onto [0, 1]
            x = torch.tanh(x).add(1.0).mul(0.5)
        return x.reshape(-1, *self.data_shape)


class DCGANDiscriminator(Discriminator):
    def __init__(self, data_shape: tuple[int, ...], width: int = 64, batch_norm: bool = True,
                 dense: int | None = None, centre_input: bool = False, extra_stages: int = 0):
        super().__init__()
        self.centre_input = centre_input
        channels, side, stages = _geometry(tuple(data_shape))
        stages += extra_stages
        last_side = SIZES[side] // 2 ** extra_stages  # a 4x4 stride-2 convolution with padding 1 floors n/2
        if last_side < 1:
            raise ValueError(f"extra_stages: {extra_stages} more stride-2 convolutions would shrink the "
                             f"{SIZES[side]}x{SIZES[side]} map of these {side}x{side} images to nothing")
        self.batch_statistics = batch_norm  # the training steps then pass real and fake as two batches
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        c = width
        for _ in range(stages - 1):
            layers.append(nn.Conv2d(c, 2 * c, 4, 2, 1, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm2d(2 * c))
            layers.append(nn.LeakyReLU(0.2, True))
            c *= 2
        self.feature_dim = c * last_side ** 2  # the last feature map, flattened (InfoGAN's Q reads it)
        if dense:  # InfoGAN's MNIST D: a fully connected layer over the last map, which Q then reads
            layers += [FullConv2d(c, dense, last_side, 1, 0, bias=not batch_norm)]
            layers += [nn.BatchNorm2d(dense)] if batch_norm else []
            layers += [nn.LeakyReLU(0.2, True), FullConv2d(dense, 1, 1)]
            self.feature_dim = dense
        else:
            layers.append(FullConv2d(c, 1, last_side, 1, 0))
        self.net = nn.Sequential(*layers)
        self.channels = channels
        self._last: tuple[torch.Tensor, torch.Tensor] | None = None  # (input, features) of the last forward

    def _feature_map(self, x: torch.Tensor) -> torch.Tensor:
        x = x.unsqueeze(1) if x.dim() == 3 else x
        return self.net[:-1](2.0 * x - 1.0 if self.centre_input else x)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The last hidden feature map, flattened: (N, feature_dim).

        When the last forward pass was on this very tensor (InfoGAN's Q reading the codes of the fake
        batch D has just scored), its features are returned, graph included, instead of running D's
        body a second time: in training mode the batch statistics, and so the features, are the same."""
        if self._last is not None and self._last[0] is x:
            return self._last[1]
        return self._feature_map(x).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """One output per image, shape (N,): a logit, or a score for the critic losses."""
        h = self._feature_map(x)
        self._last = (x, h.flatten(1)) if self.training and hasattr(self, "code_head") else None
        return self.net[-1](h).reshape(len(x))
