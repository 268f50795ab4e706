"""Theorem 1 and Proposition 1, checked numerically."""

import math

import numpy as np
import pytest

from gannet.theory import (
    LOG4,
    jensen_shannon,
    kl_divergence,
    optimal_discriminator,
    virtual_criterion,
)


def _gaussian(grid, mean, std):
    return np.exp(-0.5 * ((grid - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))


def test_theorem_1_for_many_random_pairs():
    rng = np.random.default_rng(0)
    for size in (2, 5, 50, 1000):
        for _ in range(50):
            p, q = rng.dirichlet(np.full(size, 0.5)), rng.dirichlet(np.full(size, 0.5))
            assert virtual_criterion(p, q) == pytest.approx(-LOG4 + 2 * jensen_shannon(p, q), abs=1e-12)
            assert virtual_criterion(p, q) > -LOG4


def test_the_minimum_minus_log_4_is_reached_at_p_g_equal_p_data_and_only_there():
    rng = np.random.default_rng(1)
    p = rng.dirichlet(np.ones(10))
    assert virtual_criterion(p, p) == pytest.approx(-LOG4, abs=1e-15)
    assert np.allclose(optimal_discriminator(p, p), 0.5)
    # every small move away from p_data raises C(G), and by more for larger moves
    for _ in range(100):
        direction = rng.normal(size=10)
        direction -= direction.mean()
        steps = [virtual_criterion(p, np.clip(p + eps * direction, 0, None) / np.clip(p + eps * direction, 0, None)
                                   .sum()) for eps in (1e-3, 1e-2)]
        assert -LOG4 < steps[0] < steps[1]


def test_on_a_grid_of_densities():
    grid = np.linspace(-10, 10, 20001)
    dx = grid[1] - grid[0]
    p, q = _gaussian(grid, 0, 1), _gaussian(grid, 1.5, 0.7)
    c = virtual_criterion(p, q, dx=dx)
    assert c == pytest.approx(-LOG4 + 2 * jensen_shannon(p, q, dx=dx), abs=1e-12)
    # KL between Gaussians has a closed form
    closed = math.log(0.7 / 1) + (1 + 1.5**2) / (2 * 0.7**2) - 0.5
    assert kl_divergence(p, q, dx=dx) == pytest.approx(closed, rel=1e-6)
    assert virtual_criterion(p, p, dx=dx) == pytest.approx(-LOG4, abs=1e-9)


def test_zero_probability_regions_follow_the_math():
    p, q = np.array([0.5, 0.5, 0.0, 0.0]), np.array([0.0, 0.0, 0.5, 0.5])
    assert jensen_shannon(p, q) == pytest.approx(math.log(2))  # disjoint supports: the maximum
    assert virtual_criterion(p, q) == pytest.approx(0.0)  # D* is 1 on data, 0 on fakes: V = 0
    assert kl_divergence(p, q) == math.inf
    r = np.array([0.5, 0.25, 0.25, 0.0])
    assert math.isfinite(kl_divergence(p, r)) and kl_divergence(r, p) == math.inf
    d = optimal_discriminator(np.array([0.5, 0.0, 0.0]), np.array([0.0, 0.5, 0.0]))
    assert d[0] == 1.0 and d[1] == 0.0 and math.isnan(d[2])
    assert jensen_shannon(p, r) <= math.log(2)


def test_invalid_input_is_a_clear_error():
    with pytest.raises(ValueError, match="negative mass"):
        jensen_shannon([1.2, -0.2], [0.5, 0.5])
    with pytest.raises(ValueError, match="sums to 0.9"):
        kl_divergence([0.5, 0.4], [0.5, 0.5])
    with pytest.raises(ValueError, match="integrates"):
        virtual_criterion([1.0, 1.0], [1.0, 1.0], dx=0.1)
    with pytest.raises(ValueError, match="shape"):
        virtual_criterion([0.5, 0.5], [0.2, 0.3, 0.5])
    with pytest.raises(ValueError, match="NaN"):
        jensen_shannon([np.nan, 1.0], [0.5, 0.5])
    with pytest.raises(ValueError, match="dx"):
        jensen_shannon([1.0], [1.0], dx=-1)
    assert kl_divergence([0.5, 0.5 + 1e-9], [0.5, 0.5]) >= 0  # within the tolerance


def test_underflowed_tails_on_a_wide_grid_do_not_make_kl_infinite():
    grid = np.linspace(-40, 40, 80001)
    dx = grid[1] - grid[0]
    p, q = _gaussian(grid, 0, 1), _gaussian(grid, 1.5, 0.7)
    assert (q == 0).any() and (p[q == 0] > 0).any()  # the underflow this guards against
    closed = math.log(0.7) + (1 + 1.5**2) / (2 * 0.7**2) - 0.5
    assert kl_divergence(p, q, dx=dx) == pytest.approx(closed, rel=1e-6)


def test_optimal_discriminator_refuses_non_finite_input():
    with pytest.raises(ValueError, match="finite"):
        optimal_discriminator([np.nan, 0.5], [0.5, 0.5])
