"""The paper's Figure 1, as a real experiment on the 1-D toy instead of a cartoon.

Each panel is one kept checkpoint of a ``toy-1d`` run (``train.keep_checkpoints``): p_data (black,
dotted), p_g (green, solid: the push-forward of the uniform prior through G), D(x) (blue, dashed), and
below them the mapping x = G(z) from evenly spaced z on the lower line to the x axis, which shows G
contracting where p_g is dense and expanding where it is thin. From first to last panel: p_g moves
onto p_data and D flattens towards 1/2.
"""

from __future__ import annotations

import numpy as np
import torch

from gannet.config import Config
from gannet.data.toy import TOYS
from gannet.experiments.optimal_d import prior_quantiles, pushforward_density
from gannet.io import atomic_write
from gannet.models import networks_from_state


def toy_1d_networks(state: dict):
    """Config, G and D of a toy-1d checkpoint; a clear error for any other run."""
    cfg = Config.model_validate(state["config"])
    if cfg.data.name != "toy-1d" or cfg.noise.dim != 1:
        raise ValueError(f"Figure 1 needs a toy-1d run with 1-D noise (this one: data.name={cfg.data.name}, "
                         f"noise.dim={cfg.noise.dim})")
    if cfg.discriminator.pack > 1:
        raise ValueError(f"Figure 1 draws D(x) at each point; this run's D judges packs of {cfg.discriminator.pack} "
                         "samples (discriminator.pack), so it has no D(x) of one point")
    if "discriminator" not in state:
        raise ValueError("Figure 1 draws D as well as G; a generator-only checkpoint (gannet export) has no D")
    return networks_from_state(state)


def choose_panels(paths: list, panels: int = 4) -> list:
    """``panels`` snapshots spread geometrically over training (most change happens early), first and
    last included."""
    if not paths:
        raise ValueError("the run has no kept checkpoints; train toy-1d with train.keep_checkpoints=true")
    index = np.unique(np.geomspace(1, len(paths), min(panels, len(paths))).round().astype(int) - 1)
    return [paths[i] for i in index]


@torch.no_grad()
def save_figure_1(states: list[dict], path) -> dict:
    """Draw one panel per checkpoint state; return, per panel, the step and mean |D - 1/2| under p_data."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = TOYS["toy-1d"]
    fig, axes = plt.subplots(1, len(states), figsize=(3.2 * len(states), 3.2), dpi=110, sharey=True)
    axes = np.atleast_1d(axes)
    summary = []
    for ax, state in zip(axes, states):
        cfg, G, D = toy_1d_networks(state)
        edges = np.linspace(0.0, 6.0, 241)
        grid = 0.5 * (edges[1:] + edges[:-1])
        p_data = data.density(grid[:, None])
        p_g = pushforward_density(G, cfg.noise.prior, edges, n=400_000)
        d = torch.sigmoid(D(torch.from_numpy(grid).float()[:, None])).numpy()
        ax.plot(grid, p_data, "k:", lw=1.5, label="p_data")
        ax.plot(grid, p_g, "g-", lw=1.5, label="p_g")
        ax.plot(grid, d, color="tab:blue", ls="--", lw=1.5, label="D(x)")
        z = prior_quantiles(cfg.noise.prior, 13)
        x = G(z).reshape(-1).numpy()
        z_line = np.interp(z.reshape(-1).numpy(), (z.min().item(), z.max().item()), (1.0, 5.0))
        for start, end in zip(z_line, x):
            ax.annotate("", xy=(end, 0.0), xytext=(start, -0.35),
                        arrowprops={"arrowstyle": "->", "color": "0.4", "lw": 0.7})
        ax.axhline(0.0, color="k", lw=0.6)
        ax.axhline(-0.35, color="k", lw=0.6)
        ax.text(0.1, -0.32, "z", fontsize=8)
        ax.text(0.1, 0.03, "x", fontsize=8)
        ax.set_xlim(0, 6)
        ax.set_ylim(-0.45, 1.05)
        gap = float((np.abs(d - 0.5) * p_data).sum() / p_data.sum())
        ax.set_title(f"step {state['step']}: E|D - 1/2| = {gap:.2f}", fontsize=9)
        summary.append({"step": int(state["step"]), "mean_abs_d_minus_half": gap})
    axes[0].legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    atomic_write(path, lambda f: fig.savefig(f, format="png"))
    plt.close(fig)
    return {"panels": summary}
