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


def test_scale_multiplies_z_and_leaves_the_codes_alone():
    """noise.scale: the same draws, z times the scale, the one-hot and continuous codes unchanged."""
    from gannet.config import load_config
    from gannet.noise import latent_options

    plain = sample_noise("normal", 500, 6, torch.Generator().manual_seed(2), categorical=4, continuous=2)
    small = sample_noise("normal", 500, 6, torch.Generator().manual_seed(2), categorical=4, continuous=2, scale=0.1)
    assert torch.allclose(small[:, :6], 0.1 * plain[:, :6]) and torch.equal(small[:, 6:], plain[:, 6:])
    assert small[:, :6].std().item() == pytest.approx(0.1, rel=0.1)
    assert latent_options(load_config("infogan-mnist", ["noise.scale=0.25"]).noise)["scale"] == 0.25
    assert latent_options(load_config("dcgan-mnist").noise)["scale"] == 1.0  # the default changes nothing
