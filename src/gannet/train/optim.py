"""Optimisers: pylearn2's momentum SGD (the paper's rule) and Adam, with the paper's schedules."""

from __future__ import annotations

import torch

from gannet.config import OptimConfig


class PylearnMomentum(torch.optim.Optimizer):
    r"""Classic momentum as in pylearn2's ``Momentum`` learning rule (paper-spec section 1):

        inc <- mu * inc - lr * grad
        theta <- theta + inc

    ``inc`` starts at 0. Unlike :class:`torch.optim.SGD` (``buf = mu*buf + g; theta -= lr*buf``) the
    learning rate scales each gradient as it enters the buffer, which differs when lr changes.
    """

    def __init__(self, params, lr: float, momentum: float):
        super().__init__(params, {"lr": lr, "momentum": momentum})

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            incs = []
            for p in params:
                state = self.state[p]
                if "inc" not in state:
                    state["inc"] = torch.zeros_like(p)
                incs.append(state["inc"])
            grads = [p.grad for p in params]
            torch._foreach_mul_(incs, group["momentum"])
            torch._foreach_add_(incs, grads, alpha=-group["lr"])
            torch._foreach_add_(params, incs)


def make_optimizer(params, cfg: OptimConfig) -> torch.optim.Optimizer:
    if cfg.name == "momentum":
        return PylearnMomentum(params, lr=cfg.lr, momentum=cfg.momentum)
    return torch.optim.Adam(params, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))


def learning_rate(cfg: OptimConfig, step: int) -> float:
    """pylearn2 ``ExponentialDecay``: step n (1-based) uses lr0 / decay**(n-1), floored at min_lr."""
    return max(cfg.lr * cfg.lr_decay ** -(step - 1), cfg.min_lr)


def momentum(cfg: OptimConfig, epoch: int) -> float:
    """pylearn2 ``MomentumAdjustor``: linear from ``momentum`` at epoch ``momentum_start`` to
    ``final_momentum`` at ``momentum_saturate`` (1-based epochs; paper: 0.5 -> 0.7 over epochs 1..250)."""
    span = cfg.momentum_saturate - cfg.momentum_start
    alpha = 1.0 if span == 0 else min(1.0, max(0.0, (epoch - cfg.momentum_start) / span))
    return cfg.momentum + (cfg.final_momentum - cfg.momentum) * alpha


def set_hyperparameters(optimizer: torch.optim.Optimizer, cfg: OptimConfig, step: int, epoch: int) -> tuple[float, float]:
    """Set this step's learning rate (and momentum, for the momentum rule); return (lr, momentum)."""
    lr = learning_rate(cfg, step)
    mu = momentum(cfg, epoch) if cfg.name == "momentum" else cfg.beta1
    for group in optimizer.param_groups:
        group["lr"] = lr
        if cfg.name == "momentum":
            group["momentum"] = mu
    return lr, mu
