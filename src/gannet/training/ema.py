r"""An exponential moving average of G's weights (``train.ema``).

After every generator step, theta_ema <- beta * theta_ema + (1 - beta) * theta for every parameter
of G, and G's buffers (batch-norm running statistics) are copied as they are. The averaged G
usually gives better samples than the last iterate of a game that oscillates around its equilibrium
(Yazici et al. 2019; used by BigGAN and StyleGAN). It is saved in checkpoints as ``generator_ema``,
and sampling and evaluation use it whenever it is there. Every score's protocol says which G it used.

G's running statistics belong to G's weights, not to the averaged ones: with batch norm, the average
fed with G's statistics normalises by the wrong means and variances. On InfoGAN's MNIST networks
that made the averaged G worse than G itself (Frechet distance 17.1 against 9.9 at step 4,000; 94.7
against 26.2 at step 2,000). So before the average is used (samples, monitors, checkpoints)
:meth:`GeneratorAverage.refresh_statistics` recomputes them for the averaged weights, as BigGAN's
"standing statistics" do: the average over fresh noise batches of the batch statistics of the
averaged G itself (9.8 and 14.9 at those steps). A G without batch norm skips this.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

STATISTICS_BATCHES = 20  # batches of fresh noise for the averaged G's batch-norm statistics
STATISTICS_BATCH_SIZE = 250


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

    @torch.no_grad()
    def refresh_statistics(self, noise: Callable[[int], torch.Tensor], batches: int = STATISTICS_BATCHES,
                           batch_size: int = STATISTICS_BATCH_SIZE) -> None:
        """Set every batch-norm layer's running mean and variance to the average, over ``batches``
        batches of ``noise(batch_size)``, of the averaged G's own batch statistics. The next
        :meth:`update` copies G's statistics again, so this never changes what training does."""
        norms = [m for m in self.average.modules() if isinstance(m, _BatchNorm)]
        if not norms:
            return
        momenta = [m.momentum for m in norms]
        for m in norms:
            m.reset_running_stats()
            m.momentum = None  # a cumulative average over the batches below
        self.average.train()
        try:
            for _ in range(batches):
                self.average(noise(batch_size))
        finally:
            self.average.eval()
            for m, momentum in zip(norms, momenta):
                m.momentum = momentum

    def state_dict(self) -> dict:
        return self.average.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.average.load_state_dict(state)
