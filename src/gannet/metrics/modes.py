"""Mode coverage on the 2-D toy mixtures, the protocol of VEEGAN (Srivastava et al. 2017) and PacGAN:

- a sample is **high quality** when it lies within ``threshold`` (3) standard deviations of its nearest
  mode centre;
- a mode is **covered** when at least one high-quality sample falls nearest to it (VEEGAN's and
  PacGAN's rule, ``modes_covered_published``) and, by gannet's stricter rule (``modes_covered``), when
  at least ``min_count`` (20 of 2,500 samples) do, so that a handful of stragglers does not count as a
  mode;
- the **reverse KL** of the mode histogram (PacGAN's Table 1, third column): KL(p || u) in nats, where p
  is the share of the high-quality samples nearest to each mode and u the data's uniform share,
  = log(modes) - H(p); 0 when every mode gets its share, log(modes) when one mode gets them all;
- the **Jensen-Shannon divergence** between the data and the samples, from 2-D histograms on a common
  grid with one extra bin for everything outside it (``gannet.theory.jensen_shannon``; empty bins get
  no smoothing), in nats, at most log 2.
"""

from __future__ import annotations

import numpy as np

from gannet.theory import jensen_shannon


def mode_coverage(samples, centres, std: float, threshold: float = 3.0, min_count: int = 20) -> dict:
    x, c = np.asarray(samples, np.float64), np.asarray(centres, np.float64)
    if x.ndim != 2 or c.ndim != 2 or x.shape[1] != c.shape[1]:
        raise ValueError(f"samples {x.shape} and centres {c.shape} must be (n, d) and (modes, d)")
    distances = np.sqrt(((x[:, None, :] - c[None, :, :]) ** 2).sum(-1))
    nearest = distances.argmin(1)
    good = distances[np.arange(len(x)), nearest] <= threshold * std
    counts = np.bincount(nearest[good], minlength=len(c))
    return {"modes_covered": int((counts >= min_count).sum()), "modes_covered_published": int((counts >= 1).sum()),
            "modes": len(c), "high_quality_fraction": float(good.mean()), "reverse_kl": histogram_reverse_kl(counts),
            "per_mode_counts": counts.tolist(),
            "rule": f"high quality: within {threshold} std of the nearest centre; covered: >= {min_count} such "
                    "samples (modes_covered) or >= 1 (modes_covered_published, VEEGAN and PacGAN)"}


def histogram_reverse_kl(counts) -> float | None:
    """KL(p || uniform) in nats for the mode histogram ``counts`` (p = counts / sum): log(K) - H(p), with
    0 log 0 = 0. None when no sample is high quality (p is then undefined)."""
    counts = np.asarray(counts, np.float64)
    total = counts.sum()
    if total == 0:
        return None
    p = counts[counts > 0] / total
    return float(np.log(len(counts)) + (p * np.log(p)).sum())


def histogram_jsd(*, real, fake, bins: int = 100, bounds: tuple[float, float] | None = None) -> float:
    """JSD (nats) between 2-D histograms of ``real`` and ``fake`` on one grid over ``bounds``
    (default: the real data's range, padded by 10%), plus one bin for everything outside the grid, so
    that samples far from the data count against the generator instead of vanishing."""
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    if real.ndim != 2 or real.shape[1] != 2 or fake.shape[1:] != (2,):
        raise ValueError(f"histogram_jsd needs 2-D points, got {real.shape} and {fake.shape}")
    if bounds is None:
        low, high = real.min(), real.max()
        pad = 0.1 * (high - low)
        bounds = (low - pad, high + pad)
    edges = np.linspace(bounds[0], bounds[1], bins + 1)

    def counts(x: np.ndarray) -> np.ndarray:
        inside = np.histogram2d(x[:, 0], x[:, 1], bins=[edges, edges])[0].ravel()
        return np.append(inside, len(x) - inside.sum())

    p, q = counts(real), counts(fake)
    return jensen_shannon(p / p.sum(), q / q.sum())
