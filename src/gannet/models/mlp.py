"""The fully connected networks of Goodfellow et al. (2014), paper-spec section 1.

Generator: z -> [Linear -> ReLU (or sigmoid, per layer)] x len(hidden) -> Linear -> sigmoid (or
identity), reshaped to the data shape. Discriminator: dropout on the input of every layer, maxout (or ReLU-family) hidden layers,
one output logit a with D(x) = sigmoid(a); callers work with logits (see :mod:`gannet.losses`).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from gannet.models.base import Discriminator
from gannet.models.layers import dropout, maxout

HIDDEN_ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid}


BATCH_NORM_MOMENTUM = 0.05  # running statistics: 0.95 old + 0.05 batch, as the PacGAN toy code updates them


def generator_body(noise_dim: int, hidden: list[int], activations: list[str] | None = None,
                   batch_norm: bool = False) -> nn.Sequential:
    """z -> [Linear -> activation] per hidden size; ``activations`` names each (default: all ReLU). With
    ``batch_norm``: Linear without bias -> BatchNorm1d -> activation (the shift is the bias)."""
    sizes = [noise_dim, *hidden]
    layers: list[nn.Module] = []
    for fan_in, fan_out, name in zip(sizes[:-1], sizes[1:], activations or ["relu"] * len(hidden)):
        layers.append(nn.Linear(fan_in, fan_out, bias=not batch_norm))
        if batch_norm:
            layers.append(nn.BatchNorm1d(fan_out, momentum=BATCH_NORM_MOMENTUM))
        layers.append(HIDDEN_ACTIVATIONS[name]())
    return nn.Sequential(*layers)


class MLPGenerator(nn.Module):
    def __init__(self, noise_dim: int, hidden: list[int], data_shape: tuple[int, ...], output: str = "sigmoid",
                 activations: list[str] | None = None, batch_norm: bool = False):
        super().__init__()
        self.data_shape = tuple(data_shape)
        self.hidden = generator_body(noise_dim, hidden, activations, batch_norm)
        self.out = nn.Linear(hidden[-1] if hidden else noise_dim, math.prod(self.data_shape))
        self.output = output

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.out(self.hidden(z))
        if self.output == "sigmoid":
            x = torch.sigmoid(x)
        return x.view(-1, *self.data_shape)  # -1, not len(z): traces keep the batch free

    @torch.no_grad()
    def set_output_bias_from_marginals(self, train: torch.Tensor, eps: float = 1e-7) -> None:
        """pylearn2 ``init_sigmoid_bias_from_marginals``: b = logit(clip(mean pixel, eps, 1 - eps))."""
        mean = train.reshape(len(train), -1).double().mean(0).clamp(eps, 1 - eps)
        self.out.bias.copy_(torch.log(mean) - torch.log1p(-mean))


class MLPDiscriminator(Discriminator):
    """Dropout -> Linear -> activation, per hidden layer, then dropout -> Linear -> one logit.

    With ``activation='maxout'`` each hidden layer is a Linear of ``units * pieces`` outputs pooled
    by :func:`maxout`: the paper's 240x5, 240x5 maxout discriminator. Dropout keep probabilities are
    ``keep_input`` on pixels and ``keep_hidden`` on every later layer's input (0.8 and 0.5 in the paper).
    Real and fake batches, or the two halves of one concatenated batch, get independent masks.

    With ``minibatch_std`` (Karras et al. 2018, Section 3) the output layer also reads one number shared
    by the batch: the standard deviation over the batch of each last hidden feature, averaged over the
    features. A batch of near-identical samples (a collapsed G) has a small one, which D can learn to
    reject. It makes D's output depend on the whole batch, so real and fake go through D separately
    (``batch_statistics``).

    With ``groups`` m and ``shared_layers`` s, an input row holds m samples side by side (a packed D's
    input) and the first s hidden layers read each sample alone, with one set of weights; layer s + 1
    reads the m samples' features concatenated. The first layers are then block-diagonal with tied blocks:
    a feature of one sample can be as sharp as an unpacked D's, where a unit of PacGAN's first layer
    reads a mix of all m samples.
    """

    def __init__(
        self,
        in_dim: int,
        hidden: list[int],
        activation: str = "maxout",
        pieces: int = 5,
        keep_input: float = 0.8,
        keep_hidden: float = 0.5,
        minibatch_std: bool = False,
        slope: float = 0.2,
        groups: int = 1,
        shared_layers: int = 0,
    ):
        super().__init__()
        if in_dim % groups or shared_layers >= len(hidden) or (shared_layers and groups == 1):
            raise ValueError(f"{shared_layers} shared layers of {len(hidden)} over {groups} groups of a {in_dim}-wide input")
        self.groups, self.shared_layers = groups, shared_layers
        self.slope = slope  # LeakyReLU's negative slope (activation 'leaky_relu'; 0 = ReLU)
        self.minibatch_std = minibatch_std
        self.batch_statistics = minibatch_std  # the training steps then pass real and fake as two batches
        self.activation = activation
        self.pieces = pieces if activation == "maxout" else 1
        self.keep = [keep_input] + [keep_hidden] * len(hidden)
        self.layers = nn.ModuleList()
        fan_in = in_dim // groups if shared_layers else in_dim
        for i, units in enumerate(hidden, start=1):
            self.layers.append(nn.Linear(fan_in, units * self.pieces))
            fan_in = units * groups if i == shared_layers else units
        self.out = nn.Linear(fan_in + int(minibatch_std), 1)
        self.feature_dim = fan_in  # the last hidden layer (InfoGAN's Q reads it)

    def _activate(self, x: torch.Tensor) -> torch.Tensor:
        if self.activation == "maxout":
            return maxout(x, self.pieces)
        return torch.nn.functional.leaky_relu(x, self.slope)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The last hidden layer's activations, (N, feature_dim), with dropout on each layer's input."""
        n = len(x)
        h = x.reshape(n * self.groups, -1) if self.shared_layers else x.reshape(n, -1)  # one sample per row
        for i, (layer, keep) in enumerate(zip(self.layers, self.keep), start=1):
            if self.training:
                h = dropout(h, keep, self.dropout_generator)
            h = self._activate(layer(h))
            if i == self.shared_layers:
                h = h.reshape(n, -1)  # the group's features side by side
        return h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the logits a(x), shape (N,); dropout is active only in training mode."""
        h = self.features(x)
        if self.training:
            h = dropout(h, self.keep[-1], self.dropout_generator)
        if self.minibatch_std:
            spread = h.float().std(dim=0, unbiased=False).mean().to(h.dtype) if len(h) > 1 else h.new_zeros(())
            h = torch.cat([h, spread.expand(len(h), 1)], dim=1)
        return self.out(h).squeeze(1)
