"""Metrics from k-nearest-neighbour balls around feature vectors.

Precision and recall (Kynkaanniemi et al. 2019, k = 3): the manifold of a set is the union of balls
around its points, each ball's radius the distance to the point's k-th nearest other point.

    precision = share of fake points inside the real manifold
    recall    = share of real points inside the fake manifold

Density and coverage (Naeem et al. 2020, k = 5) use the real balls only, so outliers among the real
points matter less:

    density  = (1 / kM) sum_j #{i : y_j in B(x_i, r_k(x_i))}    (about 1 when fake ~ real; can exceed 1)
    coverage = (1 / N)  #{i : some y_j in B(x_i, r_k(x_i))}     (about 1 - 2^-k when fake ~ real)

Distances are computed in blocks, so memory stays at ``block x block`` floats whatever the sizes.
Balls are closed (<=) for precision/recall as in the authors' code and open (<) for density/coverage
as in theirs.
"""

from __future__ import annotations

import numpy as np
import torch


def _tensor(a, name: str) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(a), dtype=torch.float64)
    if t.ndim != 2 or len(t) == 0:
        raise ValueError(f"{name} must be a non-empty (n, d) array, got shape {tuple(t.shape)}")
    return t


def _blocks(n: int, block: int):
    return ((i, min(i + block, n)) for i in range(0, n, block))


def kth_neighbour_radii(points, k, block: int = 2048) -> np.ndarray:
    """Distance from each point to its k-th nearest *other* point of the same set; ``k`` may be a list,
    giving one row of radii per k from a single pass over the distances."""
    x = _tensor(points, "points")
    ks = [k] if np.isscalar(k) else list(k)
    if not all(1 <= kk < len(x) for kk in ks):
        raise ValueError(f"k must be between 1 and n - 1 = {len(x) - 1}, got {k}")
    radii = torch.empty(len(ks), len(x), dtype=torch.float64)
    for i, j in _blocks(len(x), block):
        d = torch.cat([torch.cdist(x[i:j], x[a:b]) for a, b in _blocks(len(x), block)], dim=1)
        nearest = d.topk(max(ks) + 1, dim=1, largest=False).values  # column 0 is the point itself, 0
        for row, kk in enumerate(ks):
            radii[row, i:j] = nearest[:, kk]
    return radii[0].numpy() if np.isscalar(k) else radii.numpy()


def _ball_counts(queries: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor, closed: bool,
                 block: int) -> tuple[torch.Tensor, torch.Tensor]:
    """For each query: how many balls contain it; for each centre: whether its ball holds any query."""
    counts = torch.zeros(len(queries), dtype=torch.int64)
    hit = torch.zeros(len(centres), dtype=torch.bool)
    for i, j in _blocks(len(queries), block):
        for a, b in _blocks(len(centres), block):
            d = torch.cdist(queries[i:j], centres[a:b])
            inside = d <= radii[a:b] if closed else d < radii[a:b]
            counts[i:j] += inside.sum(1)
            hit[a:b] |= inside.any(0)
    return counts, hit


def precision_recall(*, real, fake, k: int = 3, block: int = 2048, real_radii=None) -> dict:
    """``real_radii``: :func:`kth_neighbour_radii` of ``real`` for this k, when already computed."""
    x, y = _tensor(real, "real"), _tensor(fake, "fake")
    real_radii = torch.as_tensor(kth_neighbour_radii(x, k, block) if real_radii is None else real_radii,
                                 dtype=torch.float64)
    fake_radii = torch.from_numpy(kth_neighbour_radii(y, k, block))
    in_real, _ = _ball_counts(y, x, real_radii, True, block)
    in_fake, _ = _ball_counts(x, y, fake_radii, True, block)
    return {"precision": float((in_real > 0).double().mean()), "recall": float((in_fake > 0).double().mean()),
            "k": k}


def density_coverage(*, real, fake, k: int = 5, block: int = 2048, real_radii=None) -> dict:
    x, y = _tensor(real, "real"), _tensor(fake, "fake")
    radii = torch.as_tensor(kth_neighbour_radii(x, k, block) if real_radii is None else real_radii,
                            dtype=torch.float64)
    counts, covered = _ball_counts(y, x, radii, False, block)
    return {"density": float(counts.double().sum() / (k * len(y))), "coverage": float(covered.double().mean()),
            "k": k}
