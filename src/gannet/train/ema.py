r"""An exponential moving average of G's weights (``train.ema``).

After every generator step, theta_ema <- beta * theta_ema + (1 - beta) * theta for every parameter
of G, and G's buffers (batch-norm running statistics) are copied as they are. The averaged G
usually gives better samples than the last iterate of a game that oscillates around its equilibrium
(Yazici et al. 2019; used by BigGAN and StyleGAN). It is saved in checkpoints as ``generator_ema``,
and sampling and evaluation use it whenever it is there. Every score's protocol says which G it used.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class GeneratorAverage:
    def __init__(self, generator: nn.Module, decay: float):
        if not 0 < decay < 1:
            raise ValueError(f"train.ema must lie in (0, 1), got {decay}")
        self.decay = decay
        self.average = copy.deepcopy(generator).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, generator: nn.Module) -> None:
        for avg, current in zip(self.average.parameters(), generator.parameters()):
            avg.lerp_(current, 1.0 - self.decay)  # avg + (1 - beta) (current - avg)
        for avg, current in zip(self.average.buffers(), generator.buffers()):
            avg.copy_(current)

    def state_dict(self) -> dict:
        return self.average.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.average.load_state_dict(state)
