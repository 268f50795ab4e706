"""Spectral normalisation of D (``discriminator.spectral_norm``)."""

import torch

from gannet.config import load_config
from gannet.models import build_discriminator, networks_from_state


def test_every_weight_of_d_has_unit_spectral_norm_after_power_iterations():
    cfg = load_config("digits", ["discriminator.spectral_norm=true", "discriminator.init_range=0.5"])
    D = build_discriminator(cfg, (8, 8), seed=0)
    D.dropout_generator = torch.Generator().manual_seed(0)
    D.train()
    for _ in range(100):  # each training forward runs one power iteration per weight
        D(torch.rand(4, 8, 8))
    linears = [m for m in D.modules() if isinstance(m, torch.nn.Linear)]
    assert len(linears) == 3
    for layer in linears:
        # power iteration converges from above slowly when the top singular values are close
        assert abs(torch.linalg.matrix_norm(layer.weight.detach(), ord=2).item() - 1.0) < 0.02
    plain = build_discriminator(load_config("digits", ["discriminator.init_range=0.5"]), (8, 8), seed=0)
    assert torch.linalg.matrix_norm(plain.layers[0].weight, ord=2).item() > 2  # it was not 1 to begin with


def test_a_spectrally_normalised_d_round_trips_through_a_checkpoint_state():
    cfg = load_config("digits", ["discriminator.spectral_norm=true"])
    D = build_discriminator(cfg, (8, 8), seed=0)
    from gannet.models import build_generator

    G = build_generator(cfg, (8, 8), seed=0)
    state = {"config": cfg.to_dict(), "data_shape": [8, 8], "generator": G.state_dict(),
             "discriminator": D.state_dict()}
    _, _, D2 = networks_from_state(state)
    x = torch.rand(5, 8, 8)
    D.eval()
    torch.testing.assert_close(D2(x), D(x))
