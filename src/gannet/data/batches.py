"""Minibatches in pylearn2's 'shuffled_sequential' order: a fresh permutation each epoch, taken in order.

The data stay resident on the training device; a batch is an index into them. The position in the
epoch, the current permutation and the generator state are saved in checkpoints, so a resumed run
draws exactly the batches the uninterrupted run would have drawn. A final partial batch is dropped.

On several processes (``world`` > 1) every rank draws the same permutation and takes its own
``batch_size`` rows of each global batch of ``batch_size x world``: no example is seen twice in an
epoch, and the union of the ranks' batches is the batch one process of ``batch_size x world`` draws.
"""

from __future__ import annotations

import torch

from gannet.data.errors import DataError


class ShuffledBatches:
    def __init__(self, data: torch.Tensor, batch_size: int, seed: int, rank: int = 0, world: int = 1):
        global_batch = batch_size * world
        if len(data) < global_batch:
            per_rank = f" ({batch_size} per process x {world} processes)" if world > 1 else ""
            raise DataError(f"train.batch_size={batch_size}{per_rank} is larger than the {len(data)} training examples")
        self.data = data
        self.batch_size = batch_size
        self.global_batch = global_batch
        self.offset = rank * batch_size
        self.batches_per_epoch = len(data) // global_batch
        self.generator = torch.Generator().manual_seed(seed)
        self.epoch = 0  # epochs started; the current batch belongs to epoch `epoch` (1-based)
        self.position = self.batches_per_epoch
        self.permutation = torch.empty(0, dtype=torch.long)

    def next_epoch_if_done(self) -> None:
        """Start a new epoch if the current one is used up (so that ``epoch`` names the next batch's epoch)."""
        if self.position >= self.batches_per_epoch:
            self.permutation = torch.randperm(len(self.data), generator=self.generator)
            self.position = 0
            self.epoch += 1

    def next(self) -> torch.Tensor:
        self.next_epoch_if_done()
        start = self.position * self.global_batch + self.offset
        index = self.permutation[start : start + self.batch_size].to(self.data.device, non_blocking=True)
        self.position += 1
        return self.data.index_select(0, index)

    def state_dict(self) -> dict:
        return {
            "epoch": self.epoch,
            "position": self.position,
            "global_batch": self.global_batch,
            "permutation": self.permutation.clone(),
            "generator": self.generator.get_state(),
        }

    def load_state_dict(self, state: dict) -> None:
        self.epoch = int(state["epoch"])
        self.position = int(state["position"])
        saved_batch = int(state.get("global_batch", self.global_batch))
        if saved_batch != self.global_batch:  # resumed on another number of processes: keep the examples seen
            self.position = -(-self.position * saved_batch // self.global_batch)
        self.permutation = state["permutation"].cpu().clone()
        self.generator.set_state(state["generator"].cpu())
