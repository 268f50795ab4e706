import math

import numpy as np
import pytest
import torch

from gannet.metrics.parzen import (
    DEFAULT_SIGMAS,
    evaluate,
    log_likelihood,
    select_sigma,
    validation_curve,
)


def _direct(samples, x, sigma):
    """The formula written out with a Python loop, no matrix tricks."""
    out = []
    d = samples.shape[1]
    for point in x:
        a = -((point - samples) ** 2).sum(1) / (2 * sigma**2)
        m = a.max()
        out.append(m + math.log(np.exp(a - m).mean()) - d * math.log(sigma * math.sqrt(2 * math.pi)))
    return np.array(out)


@pytest.mark.parametrize("sigma", [0.1, 0.2154, 1.0])
def test_matches_a_direct_computation(sigma):
    rng = np.random.default_rng(0)
    samples, x = rng.random((60, 30)), rng.random((25, 30))
    ours = log_likelihood(samples, x, sigma, chunk=7)
    assert ours.dtype == np.float64
    np.testing.assert_allclose(ours, _direct(samples, x, sigma), rtol=1e-10, atol=1e-8)


def test_single_gaussian_closed_form_and_tensor_input():
    x = torch.tensor([[0.0, 0.0], [1.0, 2.0]])
    ll = log_likelihood(torch.zeros(1, 2), x, 0.5)
    expected = -np.array([0.0, 5.0]) / (2 * 0.25) - 2 * math.log(0.5 * math.sqrt(2 * math.pi))
    np.testing.assert_allclose(ll, expected, rtol=1e-12)


def test_far_points_stay_finite_and_errors():
    ll = log_likelihood(np.zeros((3, 784)), np.ones((2, 784)), 0.1)
    expected = -784 / (2 * 0.01) - 784 * math.log(0.1 * math.sqrt(2 * math.pi))  # exp(-39200) underflows
    np.testing.assert_allclose(ll, expected, rtol=1e-12)
    reversed_view = np.random.default_rng(0).random((5, 4))[::-1]  # negative strides are accepted
    assert log_likelihood(reversed_view, reversed_view, 0.5).shape == (5,)
    with pytest.raises(ValueError, match="dimension"):
        log_likelihood(np.zeros((3, 4)), np.zeros((3, 5)), 0.1)
    with pytest.raises(ValueError, match="positive"):
        log_likelihood(np.zeros((3, 4)), np.zeros((3, 4)), 0.0)


def test_sigma_grid_in_one_pass_equals_one_sigma_at_a_time():
    rng = np.random.default_rng(1)
    samples, x = rng.random((80, 12)), rng.random((30, 12))
    grid = log_likelihood(samples, x, [0.1, 0.3, 1.0], chunk=8)
    assert grid.shape == (3, 30)
    for row, sigma in zip(grid, (0.1, 0.3, 1.0)):
        np.testing.assert_allclose(row, _direct(samples, x, sigma), rtol=1e-10)


def test_default_grid_is_the_authors():
    assert len(DEFAULT_SIGMAS) == 10 and DEFAULT_SIGMAS[0] == pytest.approx(0.1) and DEFAULT_SIGMAS[-1] == 1.0
    assert DEFAULT_SIGMAS[3] == pytest.approx(0.2154, abs=1e-4)


def test_select_sigma_is_the_argmax_of_the_validation_curve():
    rng = np.random.default_rng(2)
    samples = rng.normal(0, 0.3, (400, 5))
    valid = rng.normal(0, 0.3, (200, 5))
    sigmas = np.logspace(-2, 1, 13)
    means = [_direct(samples, valid, s).mean() for s in sigmas]
    assert select_sigma(samples, valid, sigmas) == pytest.approx(sigmas[int(np.argmax(means))])
    grid, curve = validation_curve(samples, valid, sigmas)
    np.testing.assert_allclose(curve, means, rtol=1e-10)


def test_evaluate_reports_mean_and_standard_error_with_ddof_0():
    rng = np.random.default_rng(3)
    samples, valid, test = rng.random((100, 6)), rng.random((40, 6)), rng.random((50, 6))
    result = evaluate(samples, valid, test)
    direct = _direct(samples, test, result.sigma)
    assert result.mean == pytest.approx(direct.mean(), rel=1e-10)
    assert result.standard_error == pytest.approx(direct.std() / math.sqrt(50), rel=1e-8)
    assert result.sigma == select_sigma(samples, valid)
    assert (result.n_samples, result.n_valid, result.n_test) == (100, 40, 50) and len(result.valid_curve) == 10
    assert "nats" in result.summary()


def test_a_kernel_on_every_test_point_beats_a_shifted_one():
    rng = np.random.default_rng(4)
    x = rng.random((20, 3))
    assert log_likelihood(x, x, 0.05).mean() > log_likelihood(x + 0.5, x, 0.05).mean()


def test_a_sigma_at_the_edge_of_the_grid_is_flagged():
    rng = np.random.default_rng(5)
    points = rng.random((50, 20))
    assert evaluate(points, points, points).sigma_at_edge  # centres on the data: the smallest sigma wins
    assert evaluate(points, points, points).sigma == pytest.approx(0.1)
    samples, valid = rng.normal(0, 1.0, (400, 2)), rng.normal(0, 1.0, (200, 2))  # best sigma ~0.4
    assert not evaluate(samples, valid, valid).sigma_at_edge
