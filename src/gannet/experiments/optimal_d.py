r"""Proposition 1 as an experiment: freeze G on the 1-D toy, train D to convergence, compare with D*.

p_data is the toy's N(3, 0.5^2); p_g is G's push-forward of the prior, computed on a grid from
millions of evenly spaced prior quantiles. D is trained on fresh samples of both (the population
game, no finite dataset) with the discriminator loss of :mod:`gannet.losses`. The learned D(x) is
compared with D*(x) = p_data / (p_data + p_g) where the two densities carry mass, and the estimate
of V(D, G) is tracked as it climbs towards C(G) = max_D V(D, G) = -log 4 + 2 JSD(p_data || p_g).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from gannet.data.toy import TOYS
from gannet.losses import discriminator_loss, value_estimate
from gannet.models.mlp import MLPDiscriminator
from gannet.noise import SQRT3, sample_noise
from gannet.theory import optimal_discriminator, virtual_criterion


class AffineGenerator(nn.Module):
    """G(z) = shift + scale * z: with normal noise, p_g = N(shift, scale^2)."""

    def __init__(self, shift: float = 2.0, scale: float = 0.8):
        super().__init__()
        self.shift, self.scale = shift, scale

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.shift + self.scale * z


def prior_quantiles(prior: str, n: int) -> torch.Tensor:
    """n evenly spaced quantiles of the 1-D prior, shape (n, 1)."""
    u = (torch.arange(n, dtype=torch.float64) + 0.5) / n
    z = (2 * u - 1) * SQRT3 if prior == "uniform" else torch.special.ndtri(u)
    return z.float()[:, None]


@torch.no_grad()
def pushforward_density(generator: nn.Module, prior: str, edges: np.ndarray, n: int = 4_000_000) -> np.ndarray:
    """Density of G(z), z ~ prior, on the bins ``edges`` (a histogram of G at n prior quantiles)."""
    x = torch.cat([generator(chunk) for chunk in prior_quantiles(prior, n).split(500_000)]).reshape(-1).numpy()
    counts, _ = np.histogram(x, bins=edges)
    return counts / (n * np.diff(edges))


@dataclass
class OptimalDResult:
    grid: np.ndarray
    p_data: np.ndarray
    p_g: np.ndarray
    d_learned: np.ndarray
    d_star: np.ndarray
    region: np.ndarray  # the central 99% of the mass of (p_data + p_g) / 2
    max_gap: float  # max |D - D*| over the region
    max_gap_anywhere: float  # max |D - D*| wherever D* is defined, tails included
    mean_gap: float  # E over (p_data + p_g) / 2 of |D - D*|
    c_of_g: float
    v_history: list[tuple[int, float]]

    def summary(self) -> dict:
        return {
            "max_abs_gap_d_vs_d_star": self.max_gap,
            "max_abs_gap_anywhere": self.max_gap_anywhere,
            "mean_abs_gap_d_vs_d_star": self.mean_gap,
            "c_of_g": self.c_of_g,
            "v_final": self.v_history[-1][1],
            "minus_log_4": -math.log(4),
            "v_history": self.v_history,
            "region": [float(self.grid[self.region].min()), float(self.grid[self.region].max())],
        }


def run(generator: nn.Module | None = None, prior: str = "normal", steps: int = 3000, batch_size: int = 512,
        lr: float = 1e-3, seed: int = 0, evaluations: int = 16, eval_samples: int = 200_000) -> OptimalDResult:
    """Train D against the frozen ``generator`` (default: :class:`AffineGenerator` with normal noise)."""
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    torch.manual_seed(seed)
    generator = (generator or AffineGenerator()).eval()
    data = TOYS["toy-1d"]
    rng = np.random.default_rng(seed)
    noise = torch.Generator().manual_seed(seed)
    D = MLPDiscriminator(1, [64, 64], activation="leaky_relu", keep_input=1.0, keep_hidden=1.0)
    opt = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))

    def draw(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            fake = generator(sample_noise(prior, n, 1, noise)).reshape(n, 1)
        return torch.from_numpy(data.sample(n, rng)), fake

    history = []
    eval_at = set(np.geomspace(1, steps, evaluations).astype(int).tolist()) | {steps}
    for step in range(1, steps + 1):
        real, fake = draw(batch_size)
        loss = discriminator_loss(D(real).unsqueeze(0), D(fake).unsqueeze(0))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step in eval_at:
            with torch.no_grad():
                real, fake = draw(eval_samples)
                history.append((step, float(value_estimate(D(real), D(fake)))))

    with torch.no_grad():
        probe = generator(prior_quantiles(prior, 20_000)).reshape(-1).numpy()
    lo = min(float(np.quantile(probe, 0.0005)), 3.0 - 4 * 0.5) - 0.5
    hi = max(float(np.quantile(probe, 0.9995)), 3.0 + 4 * 0.5) + 0.5
    edges = np.linspace(lo, hi, 801)
    grid = 0.5 * (edges[1:] + edges[:-1])
    dx = float(edges[1] - edges[0])
    p_data = data.density(grid[:, None])
    p_g = pushforward_density(generator, prior, edges)
    with torch.no_grad():
        d_learned = torch.sigmoid(D(torch.from_numpy(grid).float()[:, None])).numpy().astype(np.float64)
    d_star = optimal_discriminator(p_data, p_g)
    weights = (p_data + p_g) / (p_data + p_g).sum()
    cumulative = np.cumsum(weights)
    region = (cumulative >= 0.005) & (cumulative <= 0.995)
    gaps = np.abs(d_learned - d_star)
    gap = float(gaps[region].max())
    gap_anywhere = float(np.nanmax(gaps))
    mean_gap = float((np.nan_to_num(gaps) * weights).sum())
    c = virtual_criterion(p_data / (p_data.sum() * dx), p_g / (p_g.sum() * dx), dx=dx, tol=1e-3)
    return OptimalDResult(grid, p_data, p_g, d_learned, d_star, region, gap, gap_anywhere, mean_gap, c, history)


def plot(result: OptimalDResult, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gannet.io import atomic_write

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6), dpi=110)
    left.plot(result.grid, result.p_data, "k:", label="p_data")
    left.plot(result.grid, result.p_g, "g-", label="p_g")
    left.plot(result.grid, result.d_star, color="tab:blue", linestyle="--", label="D* = p_data/(p_data+p_g)")
    left.plot(result.grid, result.d_learned, color="tab:red", alpha=0.7, label="learned D")
    shade = result.grid[result.region]
    left.axvspan(shade.min(), shade.max(), color="0.9", zorder=0)
    left.set_title(f"Proposition 1: max |D - D*| = {result.max_gap:.3f} on the central 99% of the mass (shaded)",
                   fontsize=8)
    left.legend(fontsize=7)
    steps, values = zip(*result.v_history)
    right.plot(steps, values, "o-", ms=3, label="V(D, G), estimate")
    right.axhline(result.c_of_g, color="k", linestyle="--", label=f"C(G) = {result.c_of_g:.4f}")
    right.axhline(-math.log(4), color="0.6", linestyle=":", label="-log 4")
    right.set_xscale("log")
    right.set_xlabel("D steps")
    right.set_title("V(D, G) rises to C(G) = max_D V", fontsize=9)
    right.legend(fontsize=7)
    fig.tight_layout()
    atomic_write(path, lambda f: fig.savefig(f, format="png"))
    plt.close(fig)
