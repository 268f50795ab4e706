import math

import numpy as np
import pytest

from gannet.experiments import optimal_d


def test_pushforward_of_an_affine_generator_is_the_known_gaussian():
    edges = np.linspace(-2, 6, 161)
    grid = 0.5 * (edges[1:] + edges[:-1])
    density = optimal_d.pushforward_density(optimal_d.AffineGenerator(2.0, 0.8), "normal", edges, n=2_000_000)
    exact = np.exp(-0.5 * ((grid - 2.0) / 0.8) ** 2) / (0.8 * math.sqrt(2 * math.pi))
    assert np.abs(density - exact).max() < 0.01 * exact.max()


def test_prior_quantiles_cover_the_prior():
    z = optimal_d.prior_quantiles("uniform", 1000)
    assert z.min() > -math.sqrt(3) and z.max() < math.sqrt(3) and abs(z.mean().item()) < 1e-6
    assert optimal_d.prior_quantiles("normal", 100_000).std().item() == pytest.approx(1.0, abs=0.01)


@pytest.mark.slow
def test_learned_d_approaches_d_star_and_v_approaches_c_of_g():
    result = optimal_d.run(steps=1500, seed=0)
    assert result.max_gap < 0.15, result.max_gap
    assert result.mean_gap < 0.03, result.mean_gap
    first, last = result.v_history[0][1], result.v_history[-1][1]
    assert first < result.c_of_g - 0.3  # an untrained D is far from the optimum ...
    assert abs(last - result.c_of_g) < 0.01  # ... a trained one reaches C(G) = max_D V
    assert result.c_of_g > -math.log(4)  # p_g != p_data, so C(G) is above its minimum
    # D* on the grid is the ratio of the two known Gaussians (p_g from the histogram of G's push-forward)
    def gauss(x, m, s):
        return np.exp(-0.5 * ((x - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))

    exact = gauss(result.grid, 3.0, 0.5) / (gauss(result.grid, 3.0, 0.5) + gauss(result.grid, 2.0, 0.8))
    assert np.abs(result.d_star - exact)[result.region].max() < 0.02
    assert result.max_gap_anywhere >= result.max_gap
