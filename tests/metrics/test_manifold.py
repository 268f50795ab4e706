import numpy as np
import pytest

from gannet.metrics.manifold import (
    density_coverage,
    kth_neighbour_radii,
    precision_recall,
)


def test_radii_match_a_brute_force_computation_across_blocks():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((70, 3))
    d = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))
    expected = np.sort(d, axis=1)[:, 3]  # column 0 is the point itself
    np.testing.assert_allclose(kth_neighbour_radii(x, 3, block=16), expected, rtol=1e-12)
    both = kth_neighbour_radii(x, [1, 3], block=16)
    np.testing.assert_allclose(both, np.sort(d, axis=1)[:, [1, 3]].T, rtol=1e-12)
    with pytest.raises(ValueError, match="k must be between 1"):
        kth_neighbour_radii(x[:3], 3)


def test_precision_recall_density_coverage_on_a_hand_example():
    real = np.array([[0.0], [1.0], [2.0], [3.0]])
    # k = 1: every real radius is 1; the fake points sit on 0.5 and 10
    fake = np.array([[0.5], [10.0], [0.5], [0.6]])
    pr = precision_recall(real=real, fake=fake, k=1)
    assert pr["precision"] == pytest.approx(3 / 4)  # 10 is outside every real ball
    # fake radii (k=1): 0.5 -> 0 (duplicate), 0.5 -> 0, 0.6 -> 0.1, 10 -> 9.4: the ball around 10 covers 1, 2, 3
    assert pr["recall"] == pytest.approx(3 / 4)  # 0 is not within 9.4 of 10 ... it is 10 away
    dc = density_coverage(real=real, fake=fake, k=1)
    # open balls of radius 1 around 0 and 1 contain 0.5, 0.5, 0.6: 6 memberships over k*M = 4
    assert dc["density"] == pytest.approx(6 / 4)
    assert dc["coverage"] == pytest.approx(2 / 4)


def test_identical_distributions_score_high_and_a_collapsed_generator_is_flagged():
    rng = np.random.default_rng(1)
    real = rng.standard_normal((1500, 2))
    good = rng.standard_normal((1500, 2))
    collapsed = 0.05 * rng.standard_normal((1500, 2)) + np.array([1.0, 0.0])  # one tight mode
    pr_good, pr_bad = precision_recall(real=real, fake=good), precision_recall(real=real, fake=collapsed)
    dc_good, dc_bad = density_coverage(real=real, fake=good), density_coverage(real=real, fake=collapsed)
    assert pr_good["precision"] > 0.9 and pr_good["recall"] > 0.9
    assert pr_bad["precision"] > 0.9 and pr_bad["recall"] < 0.1  # realistic but not diverse
    assert 0.85 < dc_good["density"] < 1.15 and dc_good["coverage"] > 0.9  # theory: 1 and 1 - 2^-5
    assert dc_bad["coverage"] < 0.1
