import math

import numpy as np
import pytest

from gannet.metrics.frechet import (
    frechet_distance,
    frechet_distance_of_features,
    gaussian_statistics,
)


def _random_spd(rng, d, rank=None):
    a = rng.standard_normal((d, rank or d))
    return a @ a.T


def _reference_fd(m1, c1, m2, c2):
    """Independent route: eigenvalues of C1 C2 (real, >= 0 for PSD pairs), as torch-fidelity does it."""
    eig = np.linalg.eigvals(c1 @ c2).real.clip(0)
    return float(((m1 - m2) ** 2).sum() + np.trace(c1) + np.trace(c2) - 2 * np.sqrt(eig).sum())


def test_one_dimensional_closed_form():
    # (m1 - m2)^2 + (s1 - s2)^2
    assert frechet_distance([1.0], [[4.0]], [3.0], [[9.0]]) == pytest.approx(4 + 1, abs=1e-12)


def test_diagonal_and_proportional_closed_forms():
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 0.25])
    m1, m2 = np.zeros(3), np.array([1.0, 2.0, 2.0])
    expected = 9 + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()
    assert frechet_distance(m1, np.diag(a), m2, np.diag(b)) == pytest.approx(expected, rel=1e-12)
    c = _random_spd(np.random.default_rng(0), 6)
    assert frechet_distance(np.zeros(6), c, np.zeros(6), 0.25 * c) == pytest.approx((1 - 0.5) ** 2 * np.trace(c),
                                                                                    rel=1e-10)


@pytest.mark.parametrize("angle", [0.0, 0.3, math.pi / 2, 2.0])
def test_singular_non_commuting_covariances(angle):
    """Rank-1 covariances along e1 and (cos t, sin t): FD = 2 - 2|cos t|, no epsilon, no imaginary part."""
    v = np.array([math.cos(angle), math.sin(angle)])
    fd = frechet_distance(np.zeros(2), np.outer([1.0, 0.0], [1.0, 0.0]), np.zeros(2), np.outer(v, v))
    assert fd == pytest.approx(2 - 2 * abs(math.cos(angle)), abs=1e-12)


def test_agrees_with_an_independent_route_on_random_pairs_and_is_symmetric_and_invariant():
    rng = np.random.default_rng(1)
    for d, rank in ((5, None), (40, None), (40, 10)):
        c1, c2 = _random_spd(rng, d, rank), _random_spd(rng, d)
        m1, m2 = rng.standard_normal(d), rng.standard_normal(d)
        fd = frechet_distance(m1, c1, m2, c2)
        assert fd == pytest.approx(_reference_fd(m1, c1, m2, c2), rel=1e-8)
        assert frechet_distance(m2, c2, m1, c1) == pytest.approx(fd, rel=1e-8)  # sqrt of round-off eigenvalues
        q, _ = np.linalg.qr(rng.standard_normal((d, d)))
        assert frechet_distance(q @ m1 + 3, q @ c1 @ q.T, q @ m2 + 3, q @ c2 @ q.T) == pytest.approx(fd, rel=1e-8)
    # c1 is the rank-10 one: its 30 zero eigenvalues come back as +-1e-13 whose square roots add ~1e-7 each
    assert frechet_distance(m1, c1, m1, c1) == pytest.approx(0.0, abs=1e-6 * np.trace(c1))


def test_features_route_fewer_samples_than_dimensions_and_separation():
    rng = np.random.default_rng(2)
    real = rng.standard_normal((30, 64))  # n < d: singular covariances
    same = rng.standard_normal((30, 64))
    shifted = rng.standard_normal((30, 64)) + 1.0
    near, far = frechet_distance_of_features(real=real, fake=same), frechet_distance_of_features(real=real, fake=shifted)
    assert np.isfinite(near) and far > near + 50  # the mean shift alone adds 64
    _, cov = gaussian_statistics(real)
    assert cov.shape == (64, 64) and np.allclose(cov, np.cov(real, rowvar=False))
    with pytest.raises(ValueError, match="n >= 2"):
        gaussian_statistics(real[:1])
    with pytest.raises(ValueError, match="shapes do not match"):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))
