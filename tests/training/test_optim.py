import pytest
import torch

from gannet.config import OptimConfig, load_config
from gannet.training.optim import (
    PylearnMomentum,
    base_learning_rate,
    learning_rate,
    make_optimizer,
    momentum,
    set_hyperparameters,
)


def test_momentum_rule_is_pylearn2s_not_torchs():
    p = torch.nn.Parameter(torch.tensor([1.0], dtype=torch.float64))
    opt = PylearnMomentum([p], lr=0.1, momentum=0.5)
    inc, theta = 0.0, 1.0
    for lr, mu, grad in ((0.1, 0.5, 2.0), (0.05, 0.6, -1.0), (0.01, 0.7, 3.0)):
        for group in opt.param_groups:
            group["lr"], group["momentum"] = lr, mu
        p.grad = torch.tensor([grad], dtype=torch.float64)
        opt.step()
        inc = mu * inc - lr * grad
        theta += inc
        assert p.item() == pytest.approx(theta, rel=1e-15)
    # torch's SGD puts the learning rate outside the buffer; with a changing lr it differs:
    q = torch.nn.Parameter(torch.tensor([1.0], dtype=torch.float64))
    sgd = torch.optim.SGD([q], lr=0.1, momentum=0.5)
    for lr, mu, grad in ((0.1, 0.5, 2.0), (0.05, 0.6, -1.0), (0.01, 0.7, 3.0)):
        sgd.param_groups[0]["lr"], sgd.param_groups[0]["momentum"] = lr, mu
        q.grad = torch.tensor([grad], dtype=torch.float64)
        sgd.step()
    assert abs(q.item() - theta) > 1e-3


def test_papers_learning_rate_schedule():
    cfg = load_config("mnist-2014").optim
    assert learning_rate(cfg, 1) == 0.1
    assert learning_rate(cfg, 50_001) == pytest.approx(0.0819, abs=5e-5)  # after 100 epochs
    assert learning_rate(cfg, 125_001) == pytest.approx(0.0607, abs=5e-5)  # after 250 epochs
    assert learning_rate(cfg, 250_001) == pytest.approx(0.0368, abs=5e-5)  # after 500 epochs
    assert learning_rate(cfg, 10**8) == cfg.min_lr == 1e-6


def test_papers_momentum_schedule():
    cfg = load_config("mnist-2014").optim
    assert momentum(cfg, 1) == 0.5
    assert momentum(cfg, 2) == pytest.approx(0.5 + 0.2 / 249)
    assert momentum(cfg, 125) == pytest.approx(0.5 + 0.2 * 124 / 249)
    assert momentum(cfg, 250) == pytest.approx(0.7) and momentum(cfg, 1000) == pytest.approx(0.7)


def test_set_hyperparameters_writes_into_the_optimizer():
    cfg = OptimConfig(lr=0.2, lr_decay=2.0)
    p = torch.nn.Parameter(torch.zeros(1))
    opt = PylearnMomentum([p], lr=1.0, momentum=0.0)
    assert set_hyperparameters(opt, cfg, step=3, epoch=1) == (0.05, 0.5)
    assert opt.param_groups[0]["lr"] == 0.05 and opt.param_groups[0]["momentum"] == 0.5


def test_each_player_may_have_its_own_learning_rate_on_the_same_schedule():
    cfg = OptimConfig(name="adam", lr=0.1, lr_g=1e-3, lr_d=2e-4, lr_decay=2.0, min_lr=0.0)
    assert (base_learning_rate(cfg, "g"), base_learning_rate(cfg, "d")) == (1e-3, 2e-4)
    g, d = torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1))
    opt_g, opt_d = make_optimizer([g], cfg, "g"), make_optimizer([d], cfg, "d")
    assert (opt_g.param_groups[0]["lr"], opt_d.param_groups[0]["lr"]) == (1e-3, 2e-4)
    set_hyperparameters(opt_g, cfg, step=2, epoch=1, player="g")
    set_hyperparameters(opt_d, cfg, step=2, epoch=1, player="d")
    assert (opt_g.param_groups[0]["lr"], opt_d.param_groups[0]["lr"]) == (5e-4, 1e-4)
    unset = OptimConfig(name="adam", lr=0.1, lr_d=2e-4)  # the one that is not set follows lr
    assert (base_learning_rate(unset, "g"), base_learning_rate(unset, "d")) == (0.1, 2e-4)
    with pytest.raises(ValueError, match="player"):
        base_learning_rate(cfg, "q")


def test_the_trainer_gives_each_optimiser_its_players_rate_and_logs_both(tmp_path):
    import json

    from gannet.training.trainer import Trainer

    cfg = load_config("digits", ["train.steps=2", "train.log_every=1", "optim.lr_g=0.02", "optim.lr_d=0.03",
                                 "optim.lr_decay=1.0", "monitor.enabled=false", "train.progress=false",
                                 "train.tensorboard=false", "device=cpu"])
    trainer = Trainer(cfg, tmp_path)
    trainer.run()
    assert trainer.gan.opt_g.param_groups[0]["lr"] == 0.02 and trainer.gan.opt_d.param_groups[0]["lr"] == 0.03
    record = json.loads((tmp_path / "metrics.jsonl").read_text().splitlines()[-1])
    assert (record["lr"], record["lr_g"]) == (0.03, 0.02)


def test_adam_is_pytorch_s_rule_fused():
    """gannet's Adam is torch.optim.Adam with fused=True: the same updates, up to float rounding."""
    from gannet.training.optim import make_optimizer

    torch.manual_seed(0)
    ours, reference = torch.nn.Linear(30, 20), torch.nn.Linear(30, 20)
    reference.load_state_dict(ours.state_dict())
    cfg = OptimConfig(name="adam", lr=1e-3, beta1=0.5, beta2=0.999)
    opt = make_optimizer(ours.parameters(), cfg)
    ref = torch.optim.Adam(reference.parameters(), lr=1e-3, betas=(0.5, 0.999), foreach=False, fused=False)
    assert opt.defaults["fused"]
    for step in range(20):
        x = torch.randn(16, 30, generator=torch.Generator().manual_seed(step))
        for net, o in ((ours, opt), (reference, ref)):
            o.zero_grad()
            net(x).square().mean().backward()
            o.step()
    for a, b in zip(ours.parameters(), reference.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
