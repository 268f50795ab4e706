"""The paper's sample figures and a training-curve summary, as PNG files (paper-spec section 4).

* Figure 2 (Goodfellow et al., 2014): 4 rows of 5 fair random samples, and beside each row the
  training example nearest (squared Euclidean distance in pixel space) to the row's last sample,
  outlined in yellow, laid out like the authors' ``show_samples_*_paper.py`` scripts do with
  pylearn2's ``PatchViewer``.
* Figure 3: images decoded along straight lines z(alpha) = (1 - alpha) z_a + alpha z_b in z space.
* InfoGAN's code traversals: one latent code varied along each row, the rest held fixed.
* :func:`plot_metrics`: losses, D's outputs and the validation Parzen estimate of one run.

NumPy arrays in, PNG files out; every file is written atomically; matplotlib runs headless (Agg).
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
import torch
from torch import nn

from gannet.images import save_image_grid, save_png
from gannet.io import atomic_write
from gannet.noise import sample_noise

YELLOW = np.array([255, 255, 0], dtype=np.uint8)
PATCH_VIEWER_PAD = 5  # pylearn2 PatchViewer's default pad=(5, 5), used for the paper's Figure 2
PATCH_VIEWER_SIZE = 28  # the MNIST patch size that pad was chosen for
MIN_PAD = 3  # PatchViewer needs pad > 2 to draw the 1-px outline inside the padding
PATCH_VIEWER_BACKGROUND = 0.5  # PatchViewer's default background 0 is drawn as 0 * .5 + .5: mid grey


# ----------------------------------------------------------------------------------------------
# Figure 2: samples and their nearest training examples


def nearest_neighbours(samples: np.ndarray, train: np.ndarray, chunk: int = 2048) -> np.ndarray:
    """Index into ``train`` of the nearest training example to each sample (paper Figure 2).

    Distances are squared Euclidean in pixel space, as in the authors' ``argmin(((X - sample)**2).sum(1))``,
    computed in float64 as |s|^2 - 2 s.t + |t|^2 by matrix products over blocks of at most
    ``chunk`` samples by ``chunk`` training examples, so memory stays O(chunk^2) whatever the sizes.
    Ties go to the lowest index. Returns int64 indices, shape (n,).
    """
    samples = _flatten(samples)
    train = _flatten(train)
    if len(train) == 0:
        raise ValueError("nearest_neighbours: the training set is empty")
    if samples.shape[1] != train.shape[1]:
        raise ValueError(f"nearest_neighbours: samples have {samples.shape[1]} values each, "
                         f"training examples {train.shape[1]}")
    if chunk < 1:
        raise ValueError(f"nearest_neighbours: chunk must be positive, got {chunk}")
    indices = np.empty(len(samples), dtype=np.int64)
    for start in range(0, len(samples), chunk):
        indices[start : start + chunk] = _nearest_in_blocks(samples[start : start + chunk], train, chunk)
    return indices


def _flatten(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    return images.reshape(len(images), math.prod(images.shape[1:]))


def _nearest_in_blocks(samples: np.ndarray, train: np.ndarray, chunk: int) -> np.ndarray:
    """Running argmin over blocks of the training set, for one block of samples."""
    queries = samples.astype(np.float64)
    query_norms = np.einsum("ij,ij->i", queries, queries)[:, None]
    best_distance = np.full(len(queries), np.inf)
    best_index = np.zeros(len(queries), dtype=np.int64)
    for start in range(0, len(train), chunk):
        block = train[start : start + chunk].astype(np.float64)
        distances = query_norms - 2.0 * queries @ block.T + np.einsum("ij,ij->i", block, block)[None, :]
        local = distances.argmin(axis=1)
        local_distance = distances[np.arange(len(queries)), local]
        better = local_distance < best_distance
        best_distance[better] = local_distance[better]
        best_index[better] = start + local[better]
    return best_index


def figure_2_pad(height: int, width: int) -> int:
    """Padding in pixels between tiles: PatchViewer's 5 px for 28x28 and larger images, scaled
    down in proportion for smaller ones, but never below 3 px (room for the outline and a gap)."""
    return min(PATCH_VIEWER_PAD, max(MIN_PAD, math.ceil(PATCH_VIEWER_PAD * min(height, width) / PATCH_VIEWER_SIZE)))


def samples_with_neighbours_grid(
    samples: np.ndarray,
    train: np.ndarray,
    rows: int = 4,
    cols: int = 5,
    pad: int | None = None,
    background: float = PATCH_VIEWER_BACKGROUND,
) -> np.ndarray:
    """The paper's Figure 2 as a uint8 RGB array (H', W', 3).

    ``samples[:rows * cols]`` fill ``rows`` rows of ``cols`` tiles; tile ``cols`` of each row (the
    last column) is the training image nearest to the row's last sample, with a 1-px yellow
    (255, 255, 0) outline drawn in the padding just outside the image, as PatchViewer's
    ``activation=1`` shell does. Images are (N, C, H, W) in [0, 1] with C = 1 or 3.

    Layout (PatchViewer's): ``pad`` pixels before, between and after tiles, so
    H' = pad * (rows + 1) + rows * H and W' = pad * (cols + 2) + (cols + 1) * W.
    ``pad`` defaults to :func:`figure_2_pad`. ``background`` is the padding grey level in [0, 1];
    the default 0.5 is what PatchViewer draws (its background 0 means grey), use 0.0 for black.
    """
    samples = _as_images(samples, "samples")
    train = _as_images(train, "train")
    if samples.shape[1:] != train.shape[1:]:
        raise ValueError(f"samples {samples.shape[1:]} and training images {train.shape[1:]} differ in shape")
    if len(samples) < rows * cols:
        raise ValueError(f"need rows * cols = {rows * cols} samples, got {len(samples)}")
    _, _, h, w = samples.shape
    pad = figure_2_pad(h, w) if pad is None else pad
    if pad < MIN_PAD:
        raise ValueError(f"pad must be at least {MIN_PAD} px to hold the outline, got {pad}")
    last_of_each_row = samples[cols - 1 : rows * cols : cols]
    neighbours = train[nearest_neighbours(last_of_each_row, train)]
    canvas = np.full((pad * (rows + 1) + rows * h, pad * (cols + 2) + (cols + 1) * w, 3),
                     _to_uint8(np.asarray(background)), dtype=np.uint8)
    for r in range(rows):
        for c in range(cols):
            _paste(canvas, samples[r * cols + c], *_tile_origin(r, c, h, w, pad))
        y, x = _tile_origin(r, cols, h, w, pad)
        _paste(canvas, neighbours[r], y, x)
        _outline(canvas, y, x, h, w)
    return canvas


def _as_images(images: np.ndarray, name: str) -> np.ndarray:
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"{name}: expected images shaped (N, C, H, W) with C in (1, 3), got {images.shape}")
    return images


def _to_uint8(values: np.ndarray) -> np.ndarray:
    return (np.clip(values, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def _tile_origin(row: int, col: int, h: int, w: int, pad: int) -> tuple[int, int]:
    return pad + row * (h + pad), pad + col * (w + pad)


def _paste(canvas: np.ndarray, image: np.ndarray, y: int, x: int) -> None:
    """Write one (C, H, W) image in [0, 1] into the RGB canvas; grey images fill all three channels."""
    _, h, w = image.shape
    canvas[y : y + h, x : x + w] = _to_uint8(image.transpose(1, 2, 0))


def _outline(canvas: np.ndarray, y: int, x: int, h: int, w: int) -> None:
    """A 1-px yellow frame just outside the h x w tile at (y, x)."""
    canvas[y - 1, x - 1 : x + w + 1] = YELLOW
    canvas[y + h, x - 1 : x + w + 1] = YELLOW
    canvas[y - 1 : y + h + 1, x - 1] = YELLOW
    canvas[y - 1 : y + h + 1, x + w] = YELLOW


def default_scale(height: int) -> int:
    """Integer enlargement for display, as ``images.save_image_grid`` uses: about 56 px per image."""
    return max(1, 56 // max(height, 1))


def save_figure_2(
    samples: np.ndarray,
    train: np.ndarray,
    path: str | os.PathLike,
    rows: int = 4,
    cols: int = 5,
    scale: int | None = None,
    signed: bool = False,
) -> None:
    """Write the paper's Figure 2 (:func:`samples_with_neighbours_grid`) as a PNG, enlarged by the
    integer ``scale`` with nearest-neighbour resampling (default :func:`default_scale`).

    ``signed`` data (contrast-normalised, centred on 0) is shown as the paper's CIFAR-10 figure shows
    it: the neighbours are found on the data as it is, then samples and neighbours are divided by one
    number, the samples' largest magnitude, and mapped from [-1, 1] to [0, 1]."""
    if signed:
        shown = np.asarray(samples[: rows * cols], dtype=np.float32)
        magnitude = max(float(np.abs(shown).max()), 1e-12)
        neighbours = np.asarray(train)[nearest_neighbours(shown[cols - 1 :: cols], np.asarray(train))]
        samples = 0.5 + 0.5 * shown / magnitude
        train = 0.5 + 0.5 * np.asarray(neighbours, dtype=np.float32) / magnitude  # each row's own neighbour
    grid = samples_with_neighbours_grid(samples, train, rows=rows, cols=cols)
    height = np.asarray(samples).shape[-2]
    save_png(grid, path, scale=default_scale(height) if scale is None else scale)


# ----------------------------------------------------------------------------------------------
# Figure 3: linear interpolation in z


def interpolation_endpoints(prior: str, noise_dim: int, rows: int, seed: int, **codes: int
                            ) -> tuple[torch.Tensor, torch.Tensor]:
    """z_a and z_b, each (rows, noise_dim + codes), for the paper's Figure 3.

    A CPU ``torch.Generator`` seeded with ``seed`` draws, row after row,
    ``sample_noise(prior, 2, noise_dim, rng)``: the first draw is the row's z_a, the second its z_b.
    """
    rng = torch.Generator().manual_seed(seed)
    pairs = torch.stack([sample_noise(prior, 2, noise_dim, rng, **codes) for _ in range(rows)])
    return pairs[:, 0], pairs[:, 1]


def interpolation_latents(z_a: torch.Tensor, z_b: torch.Tensor, steps: int) -> torch.Tensor:
    """(rows * steps, dim): z(alpha) = (1 - alpha) z_a + alpha z_b, alpha = 0, 1/(steps-1), ..., 1 per row."""
    if steps < 2:
        raise ValueError(f"steps must be at least 2 to include both endpoints, got {steps}")
    alpha = torch.linspace(0.0, 1.0, steps, dtype=z_a.dtype)[None, :, None]
    z = (1.0 - alpha) * z_a[:, None, :] + alpha * z_b[:, None, :]
    return z.reshape(-1, z_a.shape[-1])


def interpolation_grid(
    generator: nn.Module, prior: str, noise_dim: int, rows: int = 2, steps: int = 10, seed: int = 0, **codes: int
) -> np.ndarray:
    """Images (rows * steps, C, H, W) along straight lines in z space (paper Figure 3).

    Each row decodes ``steps`` evenly spaced points from z_a to z_b inclusive (see
    :func:`interpolation_endpoints`), with ``generator`` in eval mode under ``torch.no_grad``;
    the generator's training mode is restored afterwards.
    """
    z_a, z_b = interpolation_endpoints(prior, noise_dim, rows, seed, **codes)
    z = interpolation_latents(z_a, z_b, steps)
    from gannet.models import evaluating

    device = next(generator.parameters()).device
    with evaluating(generator):
        images = generator(z.to(device))
    return images.float().cpu().numpy()


def save_figure_3(
    generator: nn.Module,
    prior: str,
    noise_dim: int,
    path: str | os.PathLike,
    rows: int = 2,
    steps: int = 10,
    seed: int = 0,
    signed: bool = False,
    **codes: int,
) -> None:
    """Write the paper's Figure 3 as a PNG: one row of ``steps`` images per interpolation path."""
    save_image_grid(interpolation_grid(generator, prior, noise_dim, rows=rows, steps=steps, seed=seed, **codes),
                    path, nrow=steps, signed=signed)


# ----------------------------------------------------------------------------------------------
# InfoGAN: a latent code's traversal


def code_traversal_latents(prior: str, noise_dim: int, categorical: int, continuous: int, code: int,
                           rows: int = 10, steps: int = 10, span: float = 2.0, seed: int = 0,
                           scale: float = 1.0) -> torch.Tensor:
    """Latent vectors (rows * steps, noise_dim + categorical + continuous) that vary one code along each row.

    ``code`` 0 is the categorical code: each row keeps its own z (continuous codes 0) and its columns
    take the code's values 0, 1, ... in turn (``steps`` is then ``categorical``). ``code`` j >= 1 is the
    j-th continuous code: it goes from -span to +span across the row (beyond the prior's [-1, 1], as in
    the InfoGAN paper's Figure 2), with one z for the whole grid and, when there is a categorical code,
    row r set to value r mod ``categorical``; the other codes stay 0. z is drawn times ``scale``
    (``noise.scale``)."""
    if code == 0 and categorical < 2:
        raise ValueError("code 0 is the categorical code, and this run has none (noise.categorical)")
    if not 0 <= code <= continuous:
        raise ValueError(f"code must be 0 (categorical) or 1..{continuous} (continuous), got {code}")
    rng = torch.Generator().manual_seed(seed)
    if code == 0:
        steps = categorical
        z = sample_noise(prior, rows, noise_dim, rng, scale=scale).repeat_interleave(steps, 0)
        cat = torch.eye(categorical).repeat(rows, 1)
        cont = torch.zeros(rows * steps, continuous)
    else:
        z = sample_noise(prior, 1, noise_dim, rng, scale=scale).expand(rows * steps, -1)
        values = torch.arange(rows).remainder(max(categorical, 1)).repeat_interleave(steps)
        cat = torch.nn.functional.one_hot(values, categorical).float() if categorical else torch.zeros(rows * steps, 0)
        cont = torch.zeros(rows * steps, continuous)
        cont[:, code - 1] = torch.linspace(-span, span, steps).repeat(rows)
    return torch.cat([z, cat, cont], 1)


def save_code_traversal(generator: nn.Module, noise, code: int, path: str | os.PathLike, rows: int = 10,
                        steps: int = 10, seed: int = 0, signed: bool = False) -> None:
    """Write a code's traversal (:func:`code_traversal_latents`) as a PNG grid, one row per line."""
    from gannet.models import evaluating

    z = code_traversal_latents(noise.prior, noise.dim, noise.categorical, noise.continuous, code, rows, steps,
                               seed=seed, scale=noise.scale)
    with torch.no_grad(), evaluating(generator):
        images = generator(z.to(next(generator.parameters()).device)).float().cpu().numpy()
    save_image_grid(images, path, nrow=len(z) // rows, signed=signed)


# ----------------------------------------------------------------------------------------------
# Training curves


def plot_metrics(records: list[dict[str, Any]], path: str | os.PathLike) -> None:
    """Three panels from a run's metrics records (``train.run_dir.read_metrics``), as a PNG.

    (a) d_loss and g_loss against step, with log 2 dashed: both losses' value when D = 1/2
        everywhere (the non-saturating g_loss; the minimax g_loss then sits at -log 2);
    (b) mean D(x) on real and on generated batches, with D = 1/2, the equilibrium of paper Prop. 1;
    (c) the validation Parzen log-likelihood with +-1 standard error bars (paper Table 1's
        estimate), or the text "no validation estimates" when the run has none.
    A VAE run (no D) shows its negative ELBO and the ELBO's two terms in (a) and (b).
    """
    training = [r for r in records if "g_loss" in r]
    if not training:
        raise ValueError("plot_metrics: no training records (with 'g_loss') to plot")
    validation = [r for r in records if r.get("valid_parzen_ll") is not None]

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), dpi=100)
    _plot_losses(axes[0], training)
    _plot_discriminator(axes[1], training)
    _plot_validation(axes[2], validation)
    fig.tight_layout()
    atomic_write(path, lambda f: fig.savefig(f, format="png"))
    plt.close(fig)


def _series(records: list[dict[str, Any]], key: str) -> tuple[np.ndarray, np.ndarray]:
    steps = np.array([r["step"] for r in records], dtype=np.float64)
    values = np.array([np.nan if r.get(key) is None else r[key] for r in records], dtype=np.float64)
    return steps, values


def _plot_losses(ax: Any, training: list[dict[str, Any]]) -> None:
    if "d_loss" not in training[0]:  # a VAE
        ax.plot(*_series(training, "g_loss"), color="tab:green", linewidth=1, label="-ELBO")
        _finish(ax, "(a) negative ELBO", "nats per example")
        return
    for key, colour in (("d_loss", "tab:blue"), ("g_loss", "tab:green")):
        ax.plot(*_series(training, key), color=colour, linewidth=1, label=key)
    ax.axhline(math.log(2), color="k", linestyle="--", linewidth=1, label="log 2")
    _finish(ax, "(a) losses", "loss")


def _plot_discriminator(ax: Any, training: list[dict[str, Any]]) -> None:
    if "kl" in training[0]:  # a VAE: the ELBO's two terms
        ax.plot(*_series(training, "reconstruction"), color="k", linewidth=1, label="reconstruction")
        ax.plot(*_series(training, "kl"), color="tab:green", linewidth=1, label="KL(q(z|x) || p(z))")
        _finish(ax, "(b) the ELBO's terms", "nats per example")
        return
    if "d_real" not in training[0]:  # a critic loss (wasserstein, hinge, least-squares): raw scores
        ax.plot(*_series(training, "score_real"), color="k", linewidth=1, label="mean D(x), real")
        ax.plot(*_series(training, "score_fake"), color="tab:green", linewidth=1, label="mean D(G(z))")
        _finish(ax, "(b) discriminator scores", "mean score")
        return
    ax.plot(*_series(training, "d_real"), color="k", linewidth=1, label="D(x), real")
    ax.plot(*_series(training, "d_fake"), color="tab:green", linewidth=1, label="D(G(z))")
    ax.axhline(0.5, color="tab:blue", linestyle="--", linewidth=1, label="D = 1/2")
    ax.set_ylim(-0.02, 1.02)
    _finish(ax, "(b) discriminator output", "mean D")


def _plot_validation(ax: Any, validation: list[dict[str, Any]]) -> None:
    if not validation:
        ax.text(0.5, 0.5, "no validation estimates", ha="center", va="center", transform=ax.transAxes)
        ax.set_title("(c) validation Parzen LL", fontsize=10)
        return
    steps, ll = _series(validation, "valid_parzen_ll")
    _, se = _series(validation, "valid_parzen_se")
    ax.errorbar(steps, ll, yerr=np.nan_to_num(se), color="tab:red", marker="o", markersize=3, capsize=2,
                linewidth=1, label="Parzen LL +- s.e.")
    _finish(ax, "(c) validation Parzen LL", "nats")


def _finish(ax: Any, title: str, ylabel: str) -> None:
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    ax.legend(loc="best", fontsize=8)


def plot_validation_curves(runs: dict[str, list[dict[str, Any]]], path: str | os.PathLike) -> None:
    """The validation monitor (Parzen estimate, the authors' per-epoch model selection) against the
    epoch, one line per run: how each variant's estimate evolves and where its best checkpoint is."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    plotted = 0
    for name, records in runs.items():
        validation = [r for r in records if r.get("valid_parzen_ll") is not None]
        if not validation:
            continue
        epochs = np.array([r["epoch"] for r in validation])
        values = np.array([r["valid_parzen_ll"] for r in validation])
        (line,) = ax.plot(epochs, values, linewidth=1, label=name)
        best = int(np.argmax(values))
        ax.plot(epochs[best], values[best], "o", color=line.get_color())
        plotted += 1
    if not plotted:
        plt.close(fig)
        raise ValueError("plot_validation_curves: no run has validation estimates")
    _save_curves(fig, ax, "epoch", "validation Parzen LL (nats, monitor)",
                 "validation monitor; dot = selected checkpoint", path)


def _save_curves(fig: Any, ax: Any, xlabel: str, ylabel: str, title: str, path: str | os.PathLike) -> None:
    """Label, grid and legend one panel of curves, and write the figure as a PNG (atomically)."""
    import matplotlib.pyplot as plt

    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    atomic_write(path, lambda f: fig.savefig(f, format="png"))
    plt.close(fig)


def plot_selection_curves(curves: dict[str, list[dict[str, Any]]], path: str | os.PathLike) -> None:
    """The full-protocol validation Parzen estimate of every kept checkpoint (records with ``step``,
    ``valid_ll``, ``valid_se``), one line per row of Table 1, the chosen checkpoint marked: the curve
    the selection of :func:`gannet.experiments.table1.validation_selection` reads."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = {name: records for name, records in curves.items() if records}
    if not curves:
        raise ValueError("plot_selection_curves: no row has a validation selection")
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    for name, records in curves.items():
        steps = np.array([r["step"] for r in records])
        values = np.array([r["valid_ll"] for r in records])
        errors = np.array([r["valid_se"] for r in records])
        line = ax.errorbar(steps, values, yerr=errors, linewidth=1, marker=".", capsize=2, label=name)
        best = int(np.argmax(values))
        ax.plot(steps[best], values[best], "o", markersize=8, fillstyle="none", color=line[0].get_color())
    _save_curves(fig, ax, "generator step", "validation Parzen LL (nats, full protocol)",
                 "kept checkpoints on validation images; circle = selected", path)
