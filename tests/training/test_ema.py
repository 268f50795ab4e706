"""The moving average of G: its update rule, its checkpoint, and that sampling and evaluation use it."""

import pytest
import torch
from torch import nn

from gannet.checkpoint import load_checkpoint
from gannet.config import load_config
from gannet.evaluation import parzen_eval
from gannet.models import networks_from_state
from gannet.training.ema import GeneratorAverage
from gannet.training.run_dir import RunDir
from gannet.training.trainer import Trainer
from gannet.sampling import generated_samples


def test_update_is_the_exponential_average_and_buffers_are_copied():
    G = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    ema = GeneratorAverage(G, 0.9)
    start = [p.clone() for p in G.parameters()]
    with torch.no_grad():
        for p in G.parameters():
            p.add_(1.0)
        G[1].running_mean.fill_(0.7)
    ema.update(G)
    for avg, s, now in zip(ema.average.parameters(), start, G.parameters()):
        torch.testing.assert_close(avg, 0.9 * s + 0.1 * now)
    assert torch.equal(ema.average[1].running_mean, G[1].running_mean)
    assert not any(p.requires_grad for p in ema.average.parameters())
    with pytest.raises(ValueError, match="train.ema"):
        GeneratorAverage(G, 1.0)


def _cfg(*overrides):
    return load_config("digits", ["train.steps=30", "train.log_every=10", "train.checkpoint_every=15",
                                  "monitor.every=15", "train.progress=false", "train.tensorboard=false",
                                  "device=cpu", *overrides])


def test_training_saves_the_average_and_sampling_and_eval_use_it(tmp_path):
    Trainer(_cfg("train.ema=0.9"), tmp_path / "run").run()
    state = load_checkpoint(RunDir(tmp_path / "run").last)
    raw, avg = state["generator"], state["generator_ema"]
    assert raw.keys() == avg.keys() and any(not torch.equal(raw[k], avg[k]) for k in raw)
    _, G, _ = networks_from_state(state)
    assert all(torch.equal(G.state_dict()[k], avg[k]) for k in avg)
    samples = generated_samples(state, 50, seed=3)
    without = generated_samples({**state, "generator_ema": None}, 50, seed=3)
    assert not torch.equal(torch.from_numpy(samples), torch.from_numpy(without))
    record = parzen_eval(RunDir(tmp_path / "run").last, n_samples=100, n_valid=50, split="valid")
    assert "moving average of G's weights (decay 0.9)" in record["protocol"]["generator"]


def test_a_run_with_the_average_resumes_exactly(tmp_path):
    Trainer(_cfg("train.ema=0.9"), tmp_path / "straight").run()
    Trainer(_cfg("train.ema=0.9", "train.steps=15"), tmp_path / "resumed").run()
    Trainer(_cfg("train.ema=0.9"), tmp_path / "resumed", resume=True).run()
    a = load_checkpoint(RunDir(tmp_path / "straight").last)["generator_ema"]
    b = load_checkpoint(RunDir(tmp_path / "resumed").last)["generator_ema"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_turning_the_average_on_at_a_resume_leaves_training_unchanged(tmp_path):
    """``train.ema`` may change on resume: the average starts from the G it finds and only watches."""
    Trainer(_cfg(), tmp_path / "plain").run()
    Trainer(_cfg("train.steps=15"), tmp_path / "late").run()
    Trainer(_cfg("train.ema=0.9"), tmp_path / "late", resume=True).run()
    plain = load_checkpoint(RunDir(tmp_path / "plain").last)
    late = load_checkpoint(RunDir(tmp_path / "late").last)
    for net in ("generator", "discriminator"):
        assert all(torch.equal(plain[net][k], late[net][k]) for k in plain[net])
    assert plain["generator_ema"] is None
    assert any(not torch.equal(late["generator_ema"][k], late["generator"][k]) for k in late["generator"])


def test_refreshed_statistics_are_the_averaged_g_s_own_batch_statistics():
    G = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2), nn.BatchNorm1d(2))
    ema = GeneratorAverage(G, 0.5)
    with torch.no_grad():
        for p in G.parameters():
            p.add_(torch.randn_like(p))
    ema.update(G)  # averaged weights, but G's statistics copied
    batches = [torch.randn(50, 3, generator=torch.Generator().manual_seed(i)) for i in range(4)]
    feed = iter(batches)
    ema.refresh_statistics(lambda n: next(feed), batches=4, batch_size=50)
    avg = ema.average
    first = [avg[0](x) for x in batches]  # the first layer's outputs, batch by batch
    torch.testing.assert_close(avg[1].running_mean, torch.stack([h.mean(0) for h in first]).mean(0))
    torch.testing.assert_close(avg[1].running_var, torch.stack([h.var(0) for h in first]).mean(0))
    assert not avg.training and avg[1].momentum == 0.1  # back in eval mode, momentum restored
    assert not torch.equal(avg[1].running_mean, G[1].running_mean)


def test_a_batch_norm_g_s_average_is_saved_with_statistics_of_its_own_and_resumes_exactly(tmp_path, fake_mnist):
    def cfg(steps):
        return load_config("dcgan-mnist", [f"data.root={fake_mnist}", "data.valid_size=50", "generator.width=4", "discriminator.width=4",
                                           "generator.dense=8", "discriminator.dense=8", "train.batch_size=8",
                                           "train.ema=0.9", f"train.steps={steps}", "train.checkpoint_every=4",
                                           "train.sample_every=4", "monitor.enabled=false", "train.progress=false",
                                           "train.tensorboard=false", "device=cpu"])

    Trainer(cfg(8), tmp_path / "straight").run()
    Trainer(cfg(4), tmp_path / "resumed").run()
    Trainer(cfg(8), tmp_path / "resumed", resume=True).run()
    straight = load_checkpoint(RunDir(tmp_path / "straight").last)
    resumed = load_checkpoint(RunDir(tmp_path / "resumed").last)
    means = [k for k in straight["generator"] if k.endswith("running_mean")]
    assert means and all(not torch.equal(straight["generator"][k], straight["generator_ema"][k]) for k in means)
    for part in ("generator", "generator_ema", "discriminator"):
        for k, v in straight[part].items():
            assert torch.equal(v, resumed[part][k]), (part, k)
