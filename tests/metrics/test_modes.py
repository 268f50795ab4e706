import math

import numpy as np
import pytest

from gannet.data.toy import TOYS
from gannet.metrics.modes import histogram_jsd, mode_coverage


def test_real_data_covers_every_mode_and_a_collapsed_sampler_covers_one():
    rng = np.random.default_rng(0)
    for name in ("toy-ring", "toy-grid"):
        toy = TOYS[name]
        real = toy.sample(2500, rng)
        result = mode_coverage(real, toy.centres, toy.std)
        assert result["modes_covered"] == len(toy.centres) and result["high_quality_fraction"] > 0.97
        one = toy.centres[0] + toy.std * rng.standard_normal((2500, 2))
        assert mode_coverage(one, toy.centres, toy.std)["modes_covered"] == 1
        between = np.zeros((2500, 2)) + 0.5 * (toy.centres[0] + toy.centres[1])  # off every mode
        assert mode_coverage(between, toy.centres, toy.std)["high_quality_fraction"] == 0.0


def test_histogram_jsd_near_zero_for_the_same_mixture_and_near_log2_for_disjoint_sets():
    rng = np.random.default_rng(1)
    toy = TOYS["toy-ring"]
    real, same = toy.sample(20000, rng), toy.sample(20000, rng)
    assert histogram_jsd(real=real, fake=same, bins=50) < 0.05
    assert histogram_jsd(real=real, fake=real + 100.0, bins=50) == pytest.approx(math.log(2))  # all outside
    half = np.concatenate([same[:10000], same[:10000] + 100.0])  # half the samples far from the data
    assert 0.1 < histogram_jsd(real=real, fake=half, bins=50) < 0.9 * math.log(2)
    with pytest.raises(ValueError, match="2-D points"):
        histogram_jsd(real=real[:, :1], fake=same[:, :1])


def test_the_published_rule_counts_a_mode_with_one_sample_where_the_strict_rule_needs_twenty():
    toy = TOYS["toy-grid"]
    rng = np.random.default_rng(2)
    bulk = toy.centres[0] + toy.std * rng.standard_normal((2490, 2))
    stragglers = toy.centres[1:11] + 0.1 * toy.std * rng.standard_normal((10, 2))  # one sample at each of 10 modes
    result = mode_coverage(np.concatenate([bulk, stragglers]), toy.centres, toy.std)
    assert result["modes_covered"] == 1 and result["modes_covered_published"] == 11


def test_reverse_kl_is_zero_for_equal_shares_log_k_for_one_mode_and_none_without_good_samples():
    from gannet.metrics.modes import histogram_reverse_kl

    assert histogram_reverse_kl([5] * 25) == pytest.approx(0.0, abs=1e-12)
    assert histogram_reverse_kl([100] + [0] * 24) == pytest.approx(math.log(25))
    assert histogram_reverse_kl([1, 1, 0, 0]) == pytest.approx(math.log(2))  # half the modes, each half the mass
    assert histogram_reverse_kl([0, 0, 0]) is None
    toy = TOYS["toy-ring"]
    real = toy.sample(2500, np.random.default_rng(3))
    assert mode_coverage(real, toy.centres, toy.std)["reverse_kl"] < 0.01  # the data itself
