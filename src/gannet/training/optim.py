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


PLAYERS = ("g", "d")


def base_learning_rate(cfg: OptimConfig, player: str) -> float:
    """A player's starting learning rate: ``lr_g`` or ``lr_d`` where set, else ``lr`` (both players)."""
    if player not in PLAYERS:
        raise ValueError(f"player must be one of {PLAYERS}, got {player!r}")
    own = cfg.lr_g if player == "g" else cfg.lr_d
    return cfg.lr if own is None else own


def make_optimizer(params, cfg: OptimConfig, player: str = "g") -> torch.optim.Optimizer:
    lr = base_learning_rate(cfg, player)
    if cfg.name == "momentum":
        return PylearnMomentum(params, lr=lr, momentum=cfg.momentum)
    # fused: one kernel updates every parameter (PyTorch's default on CPU is a loop over them, several
    # passes over memory each); the same rule, up to float rounding
    return torch.optim.Adam(params, lr=lr, betas=(cfg.beta1, cfg.beta2), fused=True)


def learning_rate(cfg: OptimConfig, step: int, player: str = "g") -> float:
    """pylearn2 ``ExponentialDecay``: step n (1-based) uses lr0 / decay**(n-1), floored at min_lr, where
    lr0 is the player's own starting rate (:func:`base_learning_rate`)."""
    return max(base_learning_rate(cfg, player) * cfg.lr_decay ** -(step - 1), cfg.min_lr)


def momentum(cfg: OptimConfig, epoch: int) -> float:
    """pylearn2 ``MomentumAdjustor``: linear from ``momentum`` at epoch ``momentum_start`` to
    ``final_momentum`` at ``momentum_saturate`` (1-based epochs; paper: 0.5 -> 0.7 over epochs 1..250)."""
    span = cfg.momentum_saturate - cfg.momentum_start
    alpha = 1.0 if span == 0 else min(1.0, max(0.0, (epoch - cfg.momentum_start) / span))
    return cfg.momentum + (cfg.final_momentum - cfg.momentum) * alpha


def set_hyperparameters(optimizer: torch.optim.Optimizer, cfg: OptimConfig, step: int, epoch: int,
                        player: str = "g") -> tuple[float, float]:
    """Set this step's learning rate (and momentum, for the momentum rule) for ``player``'s optimiser;
    return (lr, momentum)."""
    lr = learning_rate(cfg, step, player)
    mu = momentum(cfg, epoch) if cfg.name == "momentum" else cfg.beta1
    for group in optimizer.param_groups:
        group["lr"] = lr
        if cfg.name == "momentum":
            group["momentum"] = mu
    return lr, mu
