"""Image grids and point-cloud plots, written atomically as PNG (Pillow and matplotlib, headless)."""

from __future__ import annotations

import math
import os

import numpy as np
from PIL import Image

from gannet.io import atomic_write


def for_display(images: np.ndarray, signed: bool) -> np.ndarray:
    """Images as values in [0, 1]: unchanged, or for ``signed`` data (contrast-normalised, centred on 0)
    divided by their largest magnitude and mapped from [-1, 1], as the paper's CIFAR-10 figures do."""
    images = np.asarray(images, dtype=np.float32)
    if not signed:
        return images
    return 0.5 + 0.5 * images / max(float(np.abs(images).max()), 1e-12)


def image_grid(images: np.ndarray, nrow: int | None = None, pad: int = 2, pad_value: float = 0.0,
               signed: bool = False) -> np.ndarray:
    """Tile images (N, C, H, W) or (N, H, W) with values in [0, 1] (or ``signed``, see :func:`for_display`)
    into one uint8 array (H', W') or (H', W', 3)."""
    images = for_display(images, signed)
    if images.ndim == 3:
        images = images[:, None]
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"expected images shaped (N, C, H, W) with C in (1, 3), got {images.shape}")
    n, c, h, w = images.shape
    nrow = nrow or max(1, math.ceil(math.sqrt(n)))
    ncol = math.ceil(n / nrow)
    grid = np.full((c, pad + ncol * (h + pad), pad + nrow * (w + pad)), pad_value, dtype=np.float32)
    for i in range(n):
        r, q = divmod(i, nrow)
        y, x = pad + r * (h + pad), pad + q * (w + pad)
        grid[:, y : y + h, x : x + w] = images[i]
    grid = (np.clip(grid, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return grid[0] if c == 1 else grid.transpose(1, 2, 0)


def save_png(array: np.ndarray, path: str | os.PathLike, scale: int = 1) -> None:
    """Save a uint8 image array as PNG, optionally enlarged by an integer ``scale`` (nearest neighbour)."""
    image = Image.fromarray(array)
    if scale > 1:
        image = image.resize((image.width * scale, image.height * scale), Image.NEAREST)
    atomic_write(path, lambda f: image.save(f, format="PNG"))


def save_image_grid(images: np.ndarray, path: str | os.PathLike, nrow: int | None = None, signed: bool = False) -> None:
    h = np.asarray(images).shape[-1]
    save_png(image_grid(images, nrow=nrow, signed=signed), path, scale=max(1, 56 // max(h, 1)))


def save_points_plot(
    samples: np.ndarray, path: str | os.PathLike, reference: np.ndarray | None = None, title: str = ""
) -> None:
    """Plot 1-D samples as a histogram or 2-D samples as a scatter, over the data if given."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    samples = np.asarray(samples).reshape(len(samples), -1)
    fig, ax = plt.subplots(figsize=(4, 4), dpi=100)
    if samples.shape[1] == 1:
        bins = 60
        if reference is not None:
            ax.hist(np.asarray(reference).ravel(), bins=bins, density=True, histtype="step", color="k",
                    linestyle=":", label="data")
        ax.hist(samples.ravel(), bins=bins, density=True, histtype="step", color="g", label="G(z)")
        ax.legend(loc="best", fontsize=8)
    else:
        if reference is not None:
            ref = np.asarray(reference).reshape(len(reference), -1)
            ax.scatter(ref[:, 0], ref[:, 1], s=2, c="k", alpha=0.2, label="data")
        ax.scatter(samples[:, 0], samples[:, 1], s=2, c="g", alpha=0.6, label="G(z)")
        ax.set_aspect("equal")
        title = f"{title}  (black: data, green: G(z))" if reference is not None else title
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    atomic_write(path, lambda f: fig.savefig(f, format="png"))
    plt.close(fig)
