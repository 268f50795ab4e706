"""The uniform average of G's weights over a run's kept checkpoints (``gannet average``).

Averaging the iterates of a game that circles its equilibrium (Polyak and Juditsky 1992; for GANs,
Yazici et al. 2019) gives a generator nearer the centre of the circling than any single iterate. The
moving average of ``train.ema`` does this during training with a fixed horizon; this module does it
afterwards, over any window of the checkpoints a run kept (``train.keep_checkpoints``), from G's
own weights. Each kept checkpoint weighs the same, so a run whose checkpoint interval changed gives
more weight per step to the stretch kept more densely. Floating-point parameters and buffers are
averaged in float64; integer buffers (batch
norm's ``num_batches_tracked``) are taken from the newest checkpoint. For a G with batch norm, the
averaged running statistics are an approximation (SWA recomputes them on data); the paper's MLP G
has none.

The result is a generator-only checkpoint (:func:`gannet.checkpoint.generator_only`) whose G *is* the
average, marked ``averaged`` and ``average_of`` (the steps), so that ``gannet sample``, ``eval`` and
``figures`` read it like any exported G and every score's protocol says what was averaged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from gannet.checkpoint import CheckpointError, as_average, load_checkpoint
from gannet.training.run_dir import RunDir


class _RunningSum:
    """The sum of G's floating-point weights over the checkpoints added so far, and the newest of them."""

    def __init__(self):
        self.total: dict[str, torch.Tensor] = {}
        self.steps: list[int] = []
        self.newest: dict[str, Any] = {}
        self.first_path: Path | None = None

    def add(self, path: Path) -> None:
        state = load_checkpoint(path)
        if state.get("averaged"):
            raise CheckpointError(f"{path}: already an average of G; average the run's own checkpoints")
        weights = state["generator"]
        if self.total and weights.keys() != self.total.keys():
            raise CheckpointError(f"{path}: its G has other weights than {self.first_path}'s; are they from one run?")
        self.first_path = self.first_path or path
        for name, value in weights.items():
            if value.is_floating_point():
                self.total[name] = self.total.get(name, 0) + value.double()
        self.steps.append(int(state["step"]))
        if not self.newest or self.steps[-1] >= int(self.newest["step"]):
            self.newest = state

    def average(self) -> dict[str, Any]:
        n = len(self.steps)
        averaged = {name: (self.total[name] / n).to(value.dtype) if name in self.total else value
                    for name, value in self.newest["generator"].items()}
        return as_average(self.newest, averaged, sorted(self.steps))


def average_generator(paths: list[Path]) -> dict[str, Any]:
    """A generator-only state whose G is the uniform average of the raw G weights in ``paths``."""
    if not paths:
        raise ValueError("average_generator: no checkpoints to average")
    running = _RunningSum()
    for path in paths:
        running.add(path)
    return running.average()


def trailing_averages(run_snapshots: list[Path], starts: list[int]):
    """For each S in ``starts``, newest first: (S, the :func:`average_generator` of the kept checkpoints
    from step S on). Sums run from the newest checkpoint back, so each checkpoint is loaded once."""
    by_step = sorted(run_snapshots, key=lambda path: RunDir.step_of(path), reverse=True)
    if not starts:
        return
    if not by_step or max(starts) > RunDir.step_of(by_step[0]):
        newest = RunDir.step_of(by_step[0]) if by_step else None
        raise ValueError(f"trailing_averages: every start needs a kept checkpoint at or after it; starts {starts}, "
                         f"newest kept step {newest}")
    running, pending = _RunningSum(), sorted(set(starts), reverse=True)
    for path in by_step:
        step = RunDir.step_of(path)
        while pending and pending[0] > step:  # every checkpoint from pending[0] on is in the sum
            yield pending[0], running.average()
            pending.pop(0)
        running.add(path)
    for start in pending:
        yield start, running.average()


def checkpoints_in_window(run_snapshots: list[Path], first: int, last: int | None = None) -> list[Path]:
    """The kept checkpoints ``step_N.pt`` with first <= N (<= last)."""
    chosen = []
    for path in run_snapshots:
        step = RunDir.step_of(path)
        if step >= first and (last is None or step <= last):
            chosen.append(path)
    return chosen
