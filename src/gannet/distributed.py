"""Running one job on several processes with PyTorch's own engine (``torch.distributed``, ``torchrun``).

A command started by ``torchrun`` finds ``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK`` in its environment;
:func:`setup` then joins the process group (gloo on CPU, NCCL on CUDA, one GPU per local rank). Without
them every helper here is the single-process identity, so the same code runs either way.

How gannet splits the work (see docs/distributed.md):

- the global batch is ``train.batch_size x world size``; each epoch's permutation is the same on every
  rank and rank r takes rows ``[r*B, (r+1)*B)`` of every global batch, so no example is seen twice;
- noise is drawn for the whole global batch from the run's one noise stream and each rank keeps its
  rows, so N processes x B and 1 process x N*B see the same z (the draw costs microseconds);
- dropout masks come from a stream seeded by the run seed and the rank;
- gradients are averaged by DistributedDataParallel; only rank 0 writes anything.
"""

from __future__ import annotations

import datetime
import gc
import os
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


SINGLE = World()
_world = SINGLE
_sharing = False  # map_rows shares work across ranks only inside shared_work()


def from_environment() -> World:
    """The world torchrun describes in the environment (one process when nothing is set)."""
    try:
        size = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", str(rank)))
    except ValueError as err:
        raise RuntimeError(f"WORLD_SIZE, RANK and LOCAL_RANK must be integers (torchrun sets them): {err}") from None
    if size < 1 or not 0 <= rank < size:
        raise RuntimeError(f"RANK={rank} must lie in [0, WORLD_SIZE={size})")
    return World(rank, size, local)


def setup(device: str) -> World:
    """Join the process group torchrun set up, if any; returns this process's world.

    ``device`` is the config's (``auto``, ``cpu``, ``cuda``): CUDA ranks get the NCCL backend and GPU
    ``LOCAL_RANK``; CPU ranks get gloo."""
    global _world
    world = from_environment()
    if not world.distributed:
        _world = SINGLE
        return SINGLE
    if not dist.is_initialized():
        use_cuda = device == "cuda" or (device == "auto" and torch.cuda.is_available())
        if use_cuda:
            torch.cuda.set_device(world.local_rank)
        timeout = datetime.timedelta(seconds=float(os.environ.get("GANNET_DIST_TIMEOUT", "1800")))
        dist.init_process_group("nccl" if use_cuda else "gloo", timeout=timeout)
    _world = world
    return world


def teardown() -> None:
    """Leave the process group. Objects that still hold its work (DistributedDataParallel's reducer, in
    the reference cycles of a finished trainer) are collected first, while the interpreter is whole:
    left to interpreter shutdown, gloo's threads can release them after Python is gone and abort the
    process ("terminate called without an active exception") after a run that finished."""
    global _world
    if dist.is_initialized():
        gc.collect()
        dist.destroy_process_group()
    _world = SINGLE


def world() -> World:
    return _world


def training_device(device: torch.device) -> torch.device:
    """This rank's device: ``cuda:LOCAL_RANK`` for a CUDA run on several processes."""
    if device.type == "cuda" and _world.distributed:
        return torch.device("cuda", _world.local_rank)
    return device


def barrier() -> None:
    if _world.distributed:
        dist.barrier()


@contextmanager
def main_first():
    """Rank 0 runs the block first (e.g. trains and caches a file), then the other ranks run it."""
    if not _world.is_main:
        barrier()
    try:
        yield
    finally:
        if _world.is_main:
            barrier()


def _comm_device() -> torch.device:
    return torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")


def any_rank(flag: bool) -> bool:
    """True on every rank if ``flag`` is true on at least one (for stopping all ranks together)."""
    if not _world.distributed:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=_comm_device())
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def mean_over_ranks(values: dict[str, float]) -> dict[str, float]:
    """Average a dict of numbers across ranks (same keys on every rank)."""
    if not _world.distributed or not values:
        return values
    keys = list(values)  # the same order on every rank: the tracker adds the same statistics
    t = torch.tensor([float(values[k]) for k in keys], dtype=torch.float64, device=_comm_device())
    dist.all_reduce(t)
    return {k: float(v) / _world.size for k, v in zip(keys, t.tolist())}


def broadcast_text(text: str) -> str:
    """Rank 0's string on every rank (as UTF-8 bytes in a tensor, nothing unpickled)."""
    if not _world.distributed:
        return text
    dev = _comm_device()
    data = torch.tensor(list(text.encode()), dtype=torch.uint8, device=dev)
    length = torch.tensor([len(data)], dtype=torch.long, device=dev)
    dist.broadcast(length, 0)
    buffer = data if _world.is_main else torch.empty(int(length.item()), dtype=torch.uint8, device=dev)
    dist.broadcast(buffer, 0)
    return bytes(buffer.cpu().tolist()).decode()


def shard_bounds(n: int, world: World | None = None) -> tuple[int, int]:
    """This rank's contiguous share ``[start, stop)`` of ``n`` rows (shares differ by at most one row)."""
    w = world or _world
    return n * w.rank // w.size, n * (w.rank + 1) // w.size


def gather_rows(part: torch.Tensor) -> torch.Tensor:
    """Concatenate every rank's ``part`` along dim 0 in rank order, on every rank (parts may differ in
    length). With contiguous :func:`shard_bounds` shares this restores the unsharded order."""
    if not _world.distributed:
        return part
    dev = _comm_device()
    local = part.to(dev).contiguous()
    lengths = [torch.zeros(1, dtype=torch.long, device=dev) for _ in range(_world.size)]
    dist.all_gather(lengths, torch.tensor([len(local)], dtype=torch.long, device=dev))
    longest = max(int(x.item()) for x in lengths)
    padded = torch.zeros((longest, *local.shape[1:]), dtype=local.dtype, device=dev)
    padded[: len(local)] = local
    pieces = [torch.empty_like(padded) for _ in range(_world.size)]
    dist.all_gather(pieces, padded)
    return torch.cat([p[: int(n.item())] for p, n in zip(pieces, lengths)]).to(part.device)


@contextmanager
def shared_work():
    """Within this block every rank runs the same code and :func:`map_rows` shares rows across them
    (``gannet eval`` under torchrun). Outside it, map_rows is plain ``fn(rows)``, so code that only
    rank 0 runs (the training monitors) never waits for the others."""
    global _sharing
    before, _sharing = _sharing, True
    try:
        yield
    finally:
        _sharing = before


def map_rows(fn, rows):
    """``fn(rows)``, inside :func:`shared_work` computed by sharing the rows across ranks: each rank
    applies ``fn`` to its share and the results are gathered in order on every rank. ``fn`` must act
    row by row and return an array or a tuple of arrays (NumPy or torch), one row per input row."""
    if not (_world.distributed and _sharing):
        return fn(rows)
    start, stop = shard_bounds(len(rows))
    result = fn(rows[start:stop])
    if isinstance(result, tuple):
        return tuple(_gather_like(r) for r in result)
    return _gather_like(result)


def _gather_like(part):
    import numpy as np

    if isinstance(part, np.ndarray):
        return gather_rows(torch.from_numpy(np.ascontiguousarray(part))).numpy()
    return gather_rows(part)
