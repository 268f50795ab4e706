"""The VAE: its loss, its config rules, and that a run trains the decoder and encoder but no D."""

import pytest
import torch
from torch.distributions import Normal, kl_divergence

from gannet.checkpoint import load_checkpoint
from gannet.config import ConfigError, load_config
from gannet.training.run_dir import RunDir
from gannet.training.trainer import Trainer
from gannet.sampling import generated_samples
from gannet.training.vae import GaussianEncoder, negative_elbo


def test_negative_elbo_is_bernoulli_cross_entropy_plus_the_closed_form_kl():
    torch.manual_seed(0)
    encoder = GaussianEncoder((2, 3), [5], latent=4)
    decoder = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Sigmoid(), torch.nn.Unflatten(1, (2, 3)))
    x, eps = torch.rand(7, 2, 3), torch.randn(7, 4)
    loss, reconstruction, kl = negative_elbo(decoder, encoder, x, eps)
    mu, logvar = encoder(x)
    p = decoder(mu + (0.5 * logvar).exp() * eps).flatten(1)
    flat = x.flatten(1)
    expected_rec = -(flat * p.log() + (1 - flat) * (1 - p).log()).sum(1).mean()
    expected_kl = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum(1).mean()
    torch.testing.assert_close(reconstruction, expected_rec)
    torch.testing.assert_close(kl, expected_kl)
    torch.testing.assert_close(loss, expected_rec + expected_kl)


@pytest.mark.parametrize("overrides, message", [
    (["discriminator.arch=maxout"], "go together"),
    (["noise.prior=uniform"], "noise.prior: normal"),
    (["noise.scale=0.1"], "noise.scale: 1"),
    (["precision=bf16"], "precision: fp32"),
])
def test_vae_configs_are_checked(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config("vae-mnist", overrides)
    with pytest.raises(ConfigError, match="go together"):
        load_config("mnist-2014", ["discriminator.arch=none"])


def test_a_vae_run_trains_decoder_and_encoder_and_resumes_exactly(tmp_path, fake_mnist):
    common = [f"data.root={fake_mnist}", "data.valid_size=100", "generator.hidden=[16]", "loss.encoder_hidden=[16]",
              "train.batch_size=20", "train.progress=false", "train.tensorboard=false", "device=cpu",
              "monitor.enabled=false"]
    Trainer(load_config("vae-mnist", [*common, "train.steps=6"]), tmp_path / "straight").run()
    Trainer(load_config("vae-mnist", [*common, "train.steps=3"]), tmp_path / "resumed").run()
    Trainer(load_config("vae-mnist", [*common, "train.steps=6"]), tmp_path / "resumed", resume=True).run()
    a, b = (load_checkpoint(RunDir(tmp_path / name).last) for name in ("straight", "resumed"))
    for key in ("generator", "encoder"):
        assert all(torch.equal(a[key][k], b[key][k]) for k in a[key])
    assert a["discriminator"]["empty"].numel() == 0
    assert generated_samples(a, 5).reshape(5, -1).shape == (5, 784)

    from gannet.cli import main
    from gannet.evaluation import elbo_eval

    record = elbo_eval(RunDir(tmp_path / "straight").last, importance_samples=20)
    assert record["iwae"] > record["elbo"] and record["protocol"]["scored"] == "all 50 test images"
    assert main(["eval", str(tmp_path / "straight"), "--metric", "all", "--samples", "60"]) == 0
    assert (tmp_path / "straight" / "eval_elbo_last.json").exists()
    gan = tmp_path / "gan"
    Trainer(load_config("mnist-2014", [*common[:-1], "train.steps=2", "discriminator.hidden=[4]"]), gan).run()
    with pytest.raises(Exception, match="a GAN has no density to bound"):
        elbo_eval(RunDir(gan).last)


def test_the_importance_weighted_bound_is_the_log_weight_mean_and_tightens_with_draws():
    from torch.distributions import Bernoulli

    from gannet.training.vae import importance_weighted_bound

    torch.manual_seed(1)
    encoder = GaussianEncoder((6,), [5], latent=3)
    decoder = torch.nn.Sequential(torch.nn.Linear(3, 6), torch.nn.Sigmoid())
    x = torch.randint(0, 2, (40, 6)).float()  # binary, so the Bernoulli terms are exact log-probabilities
    eps = torch.randn(1, 40, 3)
    with torch.no_grad():
        one = importance_weighted_bound(decoder, encoder, x, eps)
        mu, logvar = encoder(x)
        std = (0.5 * logvar).exp()
        z = mu + std * eps[0]
        direct = (Bernoulli(probs=decoder(z)).log_prob(x).sum(1) + Normal(0.0, 1.0).log_prob(z).sum(1)
                  - Normal(mu, std).log_prob(z).sum(1))
        torch.testing.assert_close(one, direct)
        many = importance_weighted_bound(decoder, encoder, x, torch.randn(200, 40, 3))
        single = torch.stack([importance_weighted_bound(decoder, encoder, x, torch.randn(1, 40, 3))
                              for _ in range(200)]).mean(0)
    assert many.mean() > single.mean()  # E[log mean of K weights] grows with K (Burda et al. 2016, Thm 1)
