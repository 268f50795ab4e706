r"""The paper's theory as code: Proposition 1, the virtual criterion C(G) and Theorem 1.

Distributions are either discrete probability vectors (``dx=None``) or densities sampled on a
uniform grid with cell size ``dx`` (integrals become sums times ``dx``). Natural logarithms; the
conventions of the math hold: 0 log 0 = 0, and p log(p / 0) = +inf for p > 0.

- Proposition 1: for fixed G, the optimal discriminator is D*(x) = p_data(x) / (p_data(x) + p_g(x)).
- Eq. 4: C(G) = max_D V(D, G) = E_{p_data}[log D*(x)] + E_{p_g}[log(1 - D*(x))].
- Theorem 1 (Eq. 5-6): C(G) = -log 4 + 2 JSD(p_data || p_g), minimal (-log 4) iff p_g = p_data.

:func:`virtual_criterion` computes C(G) from D* directly (Eq. 4), not through the JSD, so that the
tests can check Theorem 1 rather than restate it.
"""

from __future__ import annotations

import math

import numpy as np

LOG4 = math.log(4.0)


def _as_distribution(p, name: str, dx: float | None, tol: float) -> np.ndarray:
    p = np.asarray(p, dtype=np.float64)
    if p.ndim == 0 or p.size == 0:
        raise ValueError(f"{name} must be a non-empty array of probabilities or density values")
    if not np.isfinite(p).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    if (p < 0).any():
        raise ValueError(f"{name} has negative mass (min {p.min():.3g}); probabilities and densities are >= 0")
    if dx is not None and not (dx > 0 and math.isfinite(dx)):
        raise ValueError(f"dx must be the positive spacing of the grid, got {dx}")
    total = p.sum() * (1.0 if dx is None else dx)
    if abs(total - 1.0) > tol:
        what = "sums" if dx is None else "integrates (sum * dx)"
        raise ValueError(f"{name} {what} to {total:.6g}, not 1 (tolerance {tol:g}); normalise it first")
    return p


def _pair(p, q, names: tuple[str, str], dx: float | None, tol: float) -> tuple[np.ndarray, np.ndarray]:
    p = _as_distribution(p, names[0], dx, tol)
    q = _as_distribution(q, names[1], dx, tol)
    if p.shape != q.shape:
        raise ValueError(f"{names[0]} has shape {p.shape} but {names[1]} has {q.shape}; they must share a support")
    return p, q


def _xlogy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x * log(y), with 0 * log(anything) = 0."""
    out = np.zeros_like(x)
    mask = x > 0
    with np.errstate(divide="ignore"):
        out[mask] = x[mask] * np.log(y[mask])
    return out


def optimal_discriminator(p_data, p_g) -> np.ndarray:
    """Proposition 1: D*(x) = p_data / (p_data + p_g), pointwise.

    Outside both supports (p_data = p_g = 0) D* is not defined and the result is NaN: no x from
    either distribution ever reaches it, so no value of D there changes V(D, G).
    """
    p_data, p_g = np.asarray(p_data, dtype=np.float64), np.asarray(p_g, dtype=np.float64)
    if p_data.shape != p_g.shape:
        raise ValueError(f"p_data has shape {p_data.shape} but p_g has {p_g.shape}")
    if not (np.isfinite(p_data).all() and np.isfinite(p_g).all()):
        raise ValueError("p_data and p_g must be finite (no NaN or infinite values)")
    if (p_data < 0).any() or (p_g < 0).any():
        raise ValueError("p_data and p_g must be non-negative")
    total = p_data + p_g
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, p_data / total, np.nan)


def kl_divergence(p, q, dx: float | None = None, tol: float = 1e-6) -> float:
    """KL(p || q) = sum p log(p / q) (times dx for densities); +inf where p > 0 = q.

    On a grid, far tails of a density can underflow to exactly 0; p-mass below 1e-12 where q = 0 is
    taken as such an underflow and left out, rather than turning the divergence infinite.
    """
    p, q = _pair(p, q, ("p", "q"), dx, tol)
    cell = 1.0 if dx is None else dx
    outside = (p > 0) & (q == 0)
    if p[outside].sum() * cell > 1e-12:
        return math.inf
    inside = ~outside
    value = float((_xlogy(p[inside], p[inside]) - _xlogy(p[inside], q[inside])).sum())
    return value * cell


def jensen_shannon(p, q, dx: float | None = None, tol: float = 1e-6) -> float:
    """JSD(p || q) = KL(p || m) / 2 + KL(q || m) / 2 with m = (p + q) / 2; between 0 and log 2."""
    p, q = _pair(p, q, ("p", "q"), dx, tol)
    m = 0.5 * (p + q)
    value = 0.5 * float((_xlogy(p, p) - _xlogy(p, m)).sum()) + 0.5 * float((_xlogy(q, q) - _xlogy(q, m)).sum())
    return value * (1.0 if dx is None else dx)


def virtual_criterion(p_data, p_g, dx: float | None = None, tol: float = 1e-6) -> float:
    """C(G) = V(D*_G, G) = E_{p_data}[log D*(x)] + E_{p_g}[log(1 - D*(x))] (paper Eq. 4)."""
    p_data, p_g = _pair(p_data, p_g, ("p_data", "p_g"), dx, tol)
    total = np.where(p_data + p_g > 0, p_data + p_g, 1.0)  # outside both supports both weights are 0
    d_star, one_minus_d_star = p_data / total, p_g / total  # 1 - D* without the cancellation of 1 - D*
    value = float(_xlogy(p_data, d_star).sum() + _xlogy(p_g, one_minus_d_star).sum())
    return value * (1.0 if dx is None else dx)
