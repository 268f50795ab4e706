"""InfoGAN: the codes in the latent, Q on D's features, the bound's loss and which player it trains."""

import math

import pytest
import torch
import torch.nn.functional as F

from gannet.config import ConfigError, load_config
from gannet.models import build_discriminator, build_generator
from gannet.noise import latent_options, latent_size, sample_noise
from gannet.training.info import (
    CodeRecovery,
    code_loss,
    split_latent,
)
from gannet.training.optim import make_optimizer
from gannet.training.steps import GAN


def test_codes_are_appended_to_the_same_z():
    plain = sample_noise("normal", 50, 6, torch.Generator().manual_seed(3))
    latent = sample_noise("normal", 50, 6, torch.Generator().manual_seed(3), categorical=4, continuous=2)
    assert latent.shape == (50, 12) and torch.equal(latent[:, :6], plain)
    one_hot = latent[:, 6:10]
    assert torch.equal(one_hot.sum(1), torch.ones(50)) and set(one_hot.unique().tolist()) == {0.0, 1.0}
    assert latent[:, 10:].abs().max() <= 1 and latent[:, 10:].std() > 0.3
    index, continuous = split_latent(latent, 6, 4)
    assert torch.equal(index, one_hot.argmax(1)) and torch.equal(continuous, latent[:, 10:])


def test_the_loss_is_cross_entropy_plus_a_unit_gaussian_nll():
    logits, means = torch.randn(8, 5), torch.randn(8, 2)
    index, continuous = torch.randint(5, (8,)), torch.rand(8, 2) * 2 - 1
    got = code_loss(logits, means, index, continuous, 1.0, 0.1)
    nll = 0.5 * ((continuous - means) ** 2).sum(1).mean()
    assert got == pytest.approx(float(F.cross_entropy(logits, index) + 0.1 * nll), rel=1e-6)
    # a Q that reads a categorical code perfectly and confidently has a loss near 0 (H(c) is left out)
    assert code_loss(20 * F.one_hot(index, 5).float(), means[:, :0], index, continuous[:, :0], 1.0, 0.1) < 1e-6


@pytest.mark.parametrize("overrides, message", [
    (["noise.categorical=10"], "codes with loss.info=0.0"),
    (["loss.info=1.0"], "loss.info=1.0 without codes"),
    (["noise.categorical=1", "loss.info=1.0"], "at least 2 values"),
])
def test_infogan_configs_must_be_whole(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config("dcgan-mnist", overrides)


def _gan(cfg):
    shape = (28, 28)
    G, D = build_generator(cfg, shape, 0), build_discriminator(cfg, shape, 1)
    return GAN(G, D, make_optimizer(G.parameters(), cfg.optim), make_optimizer(D.parameters(), cfg.optim),
               cfg.noise.prior, cfg.noise.dim, torch.Generator().manual_seed(5),
               latent_options=latent_options(cfg.noise))


def test_each_side_of_the_bound_trains_its_own_player():
    cfg = load_config("infogan-mnist", ["generator.width=8", "discriminator.width=8"])
    gan = _gan(cfg)
    G, D = gan.generator, gan.discriminator
    assert latent_size(cfg.noise) == 74 and hasattr(D, "code_head")
    real = torch.rand(6, 28, 28)
    args = (cfg.noise.dim, cfg.noise.categorical, cfg.loss.info, cfg.loss.info_continuous)

    latent = gan.noise(6)
    with torch.no_grad():
        fake = G(latent)
    CodeRecovery(*args).penalty(gan, real, fake, latent).backward()
    assert all(p.grad is None for p in G.parameters())  # G's sample carries no gradient on D's side
    assert all(p.grad is not None for p in D.code_head.parameters())
    assert D.net[0].weight.grad is not None  # Q shares D's body, which the bound trains too
    assert D.net[-1].weight.grad is None  # D's real/fake output is not part of it
    D.zero_grad(set_to_none=True)

    D.requires_grad_(False)  # as in the G step
    latent = gan.noise(6)
    loss = CodeRecovery(*args).penalty(gan, real, G(latent), latent)
    loss.backward()
    assert all(p.grad is not None for p in G.parameters())
    assert math.isfinite(loss.item()) and loss.item() > 0


def test_q_reads_the_features_of_d_s_own_pass_with_the_same_gradients_as_a_second_pass():
    """Q reuses the features of the pass D has just made on the fake batch (one body pass per fake
    batch instead of two): the step's updates are those of recomputing them."""
    from gannet.data.batches import ShuffledBatches
    from gannet.losses import LOSSES
    from gannet.models.dcgan import DCGANDiscriminator
    from gannet.training import info
    from gannet.training.steps import alternating_step

    cfg = load_config("infogan-mnist", ["generator.width=8", "discriminator.width=8", "generator.dense=16",
                                        "discriminator.dense=16"])
    data = torch.rand(64, 28, 28, generator=torch.Generator().manual_seed(0))

    def one_step(reuse: bool):
        gan = _gan(cfg)
        d_terms, g_terms = info.terms_from_config(cfg)
        gan.regularisers, gan.generator_terms = d_terms, g_terms
        body_passes = []
        gan.discriminator.net[-3].register_forward_hook(lambda *a: body_passes.append(1))  # the dense layer's LeakyReLU
        if not reuse:
            gan.discriminator.features = lambda x: DCGANDiscriminator._feature_map(gan.discriminator, x).flatten(1)
        alternating_step(gan, ShuffledBatches(data, 16, 3), 1, LOSSES["nonsaturating"])
        return [p.detach().clone() for net in (gan.generator, gan.discriminator) for p in net.parameters()], len(body_passes)

    shared, passes_shared = one_step(True)
    recomputed, passes_recomputed = one_step(False)
    assert (passes_shared, passes_recomputed) == (3, 5)  # real and fake for D, fake for G; Q's two extra
    for a, b in zip(shared, recomputed):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)
