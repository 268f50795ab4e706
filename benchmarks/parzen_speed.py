"""Time the full MNIST Parzen protocol, gannet's implementation against a straightforward NumPy one.

The protocol (paper-spec section 3): 10,000 kernel centres, sigma chosen over logspace(-1, 0, 10) on
1,000 validation images, 10,000 test images scored. Centres here are 10,000 real MNIST training
images (the "true data" reference of Theis et al. 2016), so the run also prints that score.
Two NumPy baselines run in the same process:
- "broadcast": what a user writes first (differences broadcast over small batches); timed on a subset
  of test points and scaled to the protocol's 20,000 point-evaluations (10 sigmas x 1,000 validation
  + 10,000 test), since the whole protocol would take about a quarter of an hour;
- "matmul": the same algebra as gannet (matrix products, float64), called once per sigma as the
  authors' script does, on the whole protocol.

    GANNET_DATA=../shared/data python benchmarks/parzen_speed.py [--baseline-points 200]

``--centres``, ``--valid`` and ``--test`` shrink the protocol (for a quick check that the script runs;
the figures then do not describe the protocol).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from gannet.data.mnist import load_mnist_splits
from gannet.hardware import describe_cpu
from gannet.metrics.parzen import DEFAULT_SIGMAS, evaluate


def numpy_baseline(centres: np.ndarray, x: np.ndarray, sigma: float, batch: int = 10) -> np.ndarray:
    """What a user writes first: broadcast differences per small batch, then log-mean-exp."""
    out = []
    d = centres.shape[1]
    for i in range(0, len(x), batch):
        diff = (x[i : i + batch, None, :] - centres[None, :, :]) / sigma
        a = -0.5 * (diff**2).sum(-1)
        m = a.max(1, keepdims=True)
        out.append(m[:, 0] + np.log(np.exp(a - m).mean(1)))
    return np.concatenate(out) - d * np.log(sigma * np.sqrt(2 * np.pi))


def numpy_matmul(centres: np.ndarray, x: np.ndarray, sigma: float, batch: int = 1024) -> np.ndarray:
    """Distances by matrix products in float64, then log-mean-exp; one call per sigma."""
    out = []
    n, d = centres.shape
    centres_sq = (centres**2).sum(1)
    for i in range(0, len(x), batch):
        block = x[i : i + batch]
        sq = np.maximum((block**2).sum(1)[:, None] + centres_sq[None] - 2 * block @ centres.T, 0)
        a = -sq / (2 * sigma**2)
        m = a.max(1, keepdims=True)
        out.append(m[:, 0] + np.log(np.exp(a - m).sum(1)) - np.log(n))
    return np.concatenate(out) - d * np.log(sigma * np.sqrt(2 * np.pi))


def numpy_matmul_protocol(centres, valid, test, sigmas=DEFAULT_SIGMAS) -> tuple[float, float]:
    curve = [numpy_matmul(centres, valid, s).mean() for s in sigmas]
    sigma = sigmas[int(np.argmax(curve))]
    return float(numpy_matmul(centres, test, sigma).mean()), float(sigma)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline-points", type=int, default=200)
    parser.add_argument("--centres", type=int, default=10_000, help="kernel centres (training images)")
    parser.add_argument("--valid", type=int, default=1_000, help="validation images that choose sigma")
    parser.add_argument("--test", type=int, default=10_000, help="test images scored")
    parser.add_argument("--valid-split", type=int, default=10_000, help="the last N training images validate")
    args = parser.parse_args(argv)
    print(describe_cpu(), flush=True)
    root = Path(os.environ.get("GANNET_DATA", "../shared/data")) / "mnist"
    splits = load_mnist_splits(root, "mnist", args.valid_split)
    flat = {k: v.reshape(len(v), -1).astype(np.float64) for k, v in splits.items()}
    centres, valid, test = flat["train"][: args.centres], flat["valid"][: args.valid], flat["test"][: args.test]

    start = time.perf_counter()
    result = evaluate(centres, valid, test)
    ours = time.perf_counter() - start

    subset = test[: args.baseline_points]
    start = time.perf_counter()
    base_ll = numpy_baseline(centres, subset, result.sigma)
    per_point = (time.perf_counter() - start) / len(subset)
    baseline = per_point * (len(DEFAULT_SIGMAS) * len(valid) + len(test))
    from gannet.metrics.parzen import log_likelihood

    gap = np.abs(log_likelihood(centres, subset, result.sigma) - base_ll).max()

    start = time.perf_counter()
    matmul_mean, matmul_sigma = numpy_matmul_protocol(centres, valid, test)
    matmul = time.perf_counter() - start

    print(f"full protocol, gannet:            {ours:7.2f} s   ({result.summary()})")
    print(f"full protocol, NumPy matmul:      {matmul:7.2f} s   (mean {matmul_mean:.4f}, sigma {matmul_sigma:.4g}): "
          f"gannet is {matmul / ours:.1f}x faster")
    print(f"full protocol, NumPy broadcast:   {baseline:7.1f} s   (scaled from {len(subset)} test points, "
          f"{per_point * 1e3:.1f} ms each): gannet is {baseline / ours:.0f}x faster")
    print(f"largest per-example difference from the broadcast baseline: {gap:.2e} nats; "
          f"mean difference from the matmul baseline: {abs(matmul_mean - result.mean):.2e} nats")
    print("validation curve:", ", ".join(f"{s:.3f}: {c:.1f}" for s, c in zip(result.sigmas, result.valid_curve)))
    return {"gannet_s": ours, "matmul_s": matmul, "broadcast_s": baseline, "mean": result.mean,
            "matmul_mean": matmul_mean, "max_gap": float(gap)}


if __name__ == "__main__":
    main()
