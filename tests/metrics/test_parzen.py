import math

import numpy as np
import pytest
import torch

from gannet.metrics.parzen import log_likelihood


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
    assert np.isfinite(ll).all()
    with pytest.raises(ValueError, match="dimension"):
        log_likelihood(np.zeros((3, 4)), np.zeros((3, 5)), 0.1)
    with pytest.raises(ValueError, match="positive"):
        log_likelihood(np.zeros((3, 4)), np.zeros((3, 4)), 0.0)
