import math

import pytest
import torch

from gannet.noise import sample_noise


def test_uniform_prior_is_unit_variance_on_plus_minus_sqrt3():
    z = sample_noise("uniform", 200_000, 4, torch.Generator().manual_seed(0))
    assert z.min() >= -math.sqrt(3) and z.max() <= math.sqrt(3)
    assert z.var().item() == pytest.approx(1.0, abs=0.01) and abs(z.mean().item()) < 0.01


def test_normal_prior_and_reproducibility():
    a = sample_noise("normal", 1000, 3, torch.Generator().manual_seed(1))
    b = sample_noise("normal", 1000, 3, torch.Generator().manual_seed(1))
    assert torch.equal(a, b) and a.shape == (1000, 3)
    with pytest.raises(ValueError, match="uniform, normal"):
        sample_noise("cauchy", 1, 1)
