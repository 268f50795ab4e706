"""Class statistics of generated samples under a classifier p(y|x) trained on the real data.

- **classes covered**: classes that receive at least ``min_share`` of their expected number of
  samples (expected = the data's class frequency x the number of samples). With 10 balanced classes
  and the default 0.1, a class counts once it gets 1% of the samples: a few stray samples do not make a
  mode, and a missing class is plain.
- **class KL**: KL(q || p) of the predicted-class histogram q of the samples (argmax of p(y|x)) from the
  data's class frequencies p, in nats. 0 when the classes come in the data's proportions; log 10 when
  every sample is one class of ten balanced ones. Finite whenever p has no empty class.
- **classifier score**: exp(E_x KL(p(y|x) || p_hat(y))), p_hat the mean of p(y|x) over the samples:
  the Inception-score formula (Salimans et al. 2016) with this classifier. Between 1 and the number of
  classes; high when each sample is confidently one class and the classes are spread evenly.
"""

from __future__ import annotations

import numpy as np


def _probabilities(probs) -> np.ndarray:
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or len(p) == 0:
        raise ValueError(f"class probabilities must be an (n, classes) array, got shape {p.shape}")
    if (p < 0).any() or not np.allclose(p.sum(1), 1.0, atol=1e-4):
        raise ValueError("class probabilities must be non-negative and sum to 1 in each row (apply softmax)")
    return p


def classifier_score(probs) -> float:
    p = _probabilities(probs)
    marginal = p.mean(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * (np.log(p) - np.log(marginal)), 0.0)
    return float(np.exp(terms.sum(1).mean()))


def class_statistics(probs, data_frequencies, min_share: float = 0.1) -> dict:
    """Coverage, class KL and classifier score of samples with class probabilities ``probs``."""
    p = _probabilities(probs)
    freq = np.asarray(data_frequencies, dtype=np.float64)
    if freq.shape != (p.shape[1],) or (freq <= 0).any():
        raise ValueError(f"data_frequencies must be {p.shape[1]} positive numbers, got shape {freq.shape}")
    freq = freq / freq.sum()
    counts = np.bincount(p.argmax(1), minlength=p.shape[1])
    q = counts / counts.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        kl = float(np.where(q > 0, q * (np.log(q) - np.log(freq)), 0.0).sum())
    covered = counts >= min_share * freq * len(p)
    return {"classes_covered": int(covered.sum()), "classes": int(p.shape[1]), "class_kl": kl,
            "classifier_score": classifier_score(p), "class_counts": counts.tolist(),
            "coverage_rule": f"a class is covered when it gets >= {min_share} x its expected share of samples"}
