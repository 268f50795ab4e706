"""Global contrast normalisation, the paper's CIFAR-10 preprocessing (pylearn2 ``global_contrast_normalize``
with ``scale=55``, paper-spec section 2).

Each image, flattened, has its own mean subtracted and is then scaled to L2 norm ``scale``:

    x' = scale * (x - mean(x)) / ||x - mean(x)||_2,

except that an image whose norm is below ``min_divisor`` (a flat image) is only centred. The result is
centred on 0 with about unit variance per pixel at scale = sqrt(number of pixels) (55 ~ sqrt(3072)).
"""

from __future__ import annotations

import numpy as np


def global_contrast_normalize(images: np.ndarray, scale: float, min_divisor: float = 1e-8,
                              chunk: int = 10_000) -> np.ndarray:
    """GCN of ``images`` (N, ...) as float32, computed in float64 a chunk of rows at a time."""
    images = np.asarray(images)
    out = np.empty(images.shape, dtype=np.float32)
    flat_out = out.reshape(len(images), -1)
    flat_in = images.reshape(len(images), -1)
    for start in range(0, len(images), chunk):
        rows = flat_in[start : start + chunk].astype(np.float64)
        rows -= rows.mean(axis=1, keepdims=True)
        norms = np.sqrt(np.square(rows).sum(axis=1)) / scale
        norms[norms < min_divisor] = 1.0
        flat_out[start : start + chunk] = rows / norms[:, None]
    return out
