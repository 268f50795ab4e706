"""Training and evaluation on several processes (torchrun, gloo on CPU) against one process."""

import itertools
import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest
import torch

from gannet import distributed
from gannet.checkpoint import load_checkpoint
from gannet.data.batches import ShuffledBatches
from gannet.training.run_dir import RunDir, read_metrics
from gannet.training.steps import GAN

# digits, dropout off, so that the only randomness is the data order and the noise, both shared
NO_DROPOUT = ["discriminator.keep_input=1", "discriminator.keep_hidden=1", "discriminator.init_range=0.05",
              "train.log_every=2",
              "train.checkpoint_every=3", "train.progress=false", "train.tensorboard=false", "monitor.every=3",
              "device=cpu"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _gannet(nproc: int, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    if nproc == 1:
        cmd = [sys.executable, "-m", "gannet", *args]
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={nproc}", "--nnodes=1",
               "--rdzv_backend=c10d", f"--rdzv_endpoint=127.0.0.1:{_free_port()}", "-m", "gannet", *args]
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_shards_cover_every_row_once():
    for n in (0, 1, 7, 100):
        for size in (1, 2, 3):
            bounds = [distributed.shard_bounds(n, distributed.World(r, size)) for r in range(size)]
            assert bounds[0][0] == 0 and bounds[-1][1] == n
            assert all(a[1] == b[0] for a, b in itertools.pairwise(bounds))
            assert max(b - a for a, b in bounds) - min(b - a for a, b in bounds) <= 1


def test_ranks_split_the_global_batch_of_one_process():
    data = torch.arange(1000).float()[:, None]
    one = ShuffledBatches(data, 100, seed=3)
    ranks = [ShuffledBatches(data, 50, seed=3, rank=r, world=2) for r in range(2)]
    assert ranks[0].batches_per_epoch == one.batches_per_epoch == 10
    seen = []
    for _ in range(25):  # across epoch boundaries
        whole = one.next()
        parts = [b.next() for b in ranks]
        assert torch.equal(torch.cat(parts), whole)
        seen.append(parts[0])
    assert len(torch.cat(seen[:10]).unique()) == 500  # no example twice within an epoch on a rank


def test_a_checkpoint_of_another_world_size_keeps_the_examples_seen():
    data = torch.arange(1000).float()[:, None]
    two = ShuffledBatches(data, 50, seed=3, rank=0, world=2)
    for _ in range(3):
        two.next()
    one = ShuffledBatches(data, 50, seed=3)
    one.load_state_dict(two.state_dict())
    assert one.position == 6  # 3 global batches of 100 = 6 batches of 50, same permutation
    assert torch.equal(one.permutation, two.permutation)


def test_noise_rows_of_each_rank_are_the_rows_of_one_process():
    def gan(rank, world):
        return GAN(torch.nn.Identity(), torch.nn.Identity(), None, None, "normal", 4,
                   torch.Generator().manual_seed(11), rank=rank, world=world)

    whole = gan(0, 1).noise(6)
    assert torch.equal(torch.cat([gan(r, 2).noise(3) for r in range(2)]), whole)


@pytest.mark.parametrize("update", ["simultaneous", "alternating"])
def test_two_processes_of_50_match_one_process_of_100(tmp_path, update):
    one, two = tmp_path / "one", tmp_path / "two"
    common = ["train", "digits", "train.steps=10", f"train.update={update}", *NO_DROPOUT]
    _gannet(1, *common, "train.batch_size=100", "train.keep_checkpoints=true", "--out", str(one))
    err = _gannet(2, *common, "train.batch_size=50", "--out", str(two)).stderr
    assert "x 2 processes (global batch 100)" in err
    a, b = load_checkpoint(RunDir(one).last), load_checkpoint(RunDir(two).last)
    assert a["step"] == b["step"] == 10 and b["world_size"] == 2
    start = load_checkpoint(RunDir(one).snapshot(0))
    for net in ("generator", "discriminator"):
        moved = max(float((a[net][k] - start[net][k]).abs().max()) for k in a[net])
        assert moved > 1e-4  # training moved the weights a hundred times the tolerance below
        for key, value in a[net].items():
            name = f"{net}.{key}"
            torch.testing.assert_close(b[net][key], value, rtol=1e-5, atol=1e-6, msg=lambda m, k=name: f"{k}: {m}")
    # the logged losses are means over the global batch, hence the same too
    la = [r for r in read_metrics(RunDir(one).metrics) if "d_loss" in r]
    lb = [r for r in read_metrics(RunDir(two).metrics) if "d_loss" in r]
    assert [r["step"] for r in la] == [r["step"] for r in lb] == [2, 4, 6, 8, 10]
    for ra, rb in zip(la, lb):
        assert rb["d_loss"] == pytest.approx(ra["d_loss"], rel=1e-4)
        assert rb["g_loss"] == pytest.approx(ra["g_loss"], rel=1e-4)
    # only rank 0 wrote: one metrics file, one set of checkpoints
    assert sorted(p.name for p in (two / "checkpoints").iterdir()) == ["best.pt", "last.pt"]


def test_a_two_process_run_resumes_on_one_process_and_evaluates_on_two(tmp_path):
    run = tmp_path / "run"
    _gannet(2, "train", "digits", "train.steps=3", "train.batch_size=50", *NO_DROPOUT, "--out", str(run))
    err = _gannet(1, "train", "digits", "train.steps=5", "train.progress=false", "--out", str(run), "--resume").stderr
    assert "trained on 2 process(es) and continues on 1: the global batch changes from 100 to 50" in err
    state = load_checkpoint(RunDir(run).last)
    assert state["step"] == 5 and state["world_size"] == 1
    assert [r["step"] for r in read_metrics(RunDir(run).metrics) if "d_loss" in r] == [2, 3, 4, 5]

    # gannet eval shares sampling and scoring across ranks and gets the numbers of one process
    args = ["eval", str(run), "--checkpoint", "last", "--samples", "300", "--valid", "100", "--split", "valid"]
    _gannet(1, *args)
    single = json.loads((run / "eval_parzen_last.json").read_text())
    _gannet(2, *args)
    shared = json.loads((run / "eval_parzen_last.json").read_text())
    assert shared["protocol"]["processes"] == 2 and "processes" not in single["protocol"]
    assert shared["sigma"] == single["sigma"]
    assert shared["mean"] == pytest.approx(single["mean"], rel=1e-9)
    np.testing.assert_allclose(shared["valid_curve"], single["valid_curve"], rtol=1e-9)


def test_a_nan_on_one_rank_stops_every_rank_and_keeps_the_last_good_checkpoint(tmp_path):
    script = tmp_path / "nan_on_rank_1.py"
    script.write_text(
        "import dataclasses, os, sys\n"
        "import gannet.losses as losses\n"
        "from gannet.cli import main\n"
        "plain, calls = losses.LOSSES['nonsaturating'], [0]\n"
        "def poisoned(logits):\n"
        "    calls[0] += 1\n"
        "    loss = plain.generator(logits)\n"
        "    return loss * float('nan') if os.environ['RANK'] == '1' and calls[0] >= 5 else loss\n"
        "losses.LOSSES['nonsaturating'] = dataclasses.replace(plain, generator=poisoned)\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    run = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--nnodes=1", "--rdzv_backend=c10d",
           f"--rdzv_endpoint=127.0.0.1:{_free_port()}", str(script), "train", "digits", "train.steps=20",
           "train.batch_size=50", *NO_DROPOUT, "--out", str(run)]
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert result.returncode != 0
    assert "training diverged" in result.stderr and "at step 6" in result.stderr, result.stderr
    assert "Timeout" not in result.stderr and "timed out" not in result.stderr  # stopped together, no hang
    state = load_checkpoint(RunDir(run).last)
    assert state["step"] == 3  # checkpoints every 3 steps: step 6 was not written, step 3 is kept
    assert all(torch.isfinite(v).all() for v in state["generator"].values())
