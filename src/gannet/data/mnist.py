"""MNIST and Fashion-MNIST from their standard IDX files, split as in the paper.

Splits (paper-spec section 1): train = the first 50,000 training images, valid = the last 10,000,
test = the 10,000 t10k images. Pixels are float32 in [0, 1] (value / 255), not binarised.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gannet.data.errors import DataError
from gannet.data.idx import read_idx

FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def how_to_get(root: Path, dataset: str) -> str:
    return (f"Get {dataset} with `gannet data download {dataset} --root {root}`, or set data.root "
            f"(or $GANNET_DATA) to a folder with the standard IDX files.")


def find_file(root: Path, stem: str, dataset: str) -> Path:
    for name in (stem + ".gz", stem):
        if (root / name).is_file():
            return root / name
    raise DataError(f"{root / (stem + '.gz')}: file not found. {how_to_get(root, dataset)}")


def load_images(root: Path, dataset: str, split: str) -> np.ndarray:
    """Read ``train`` or ``test`` images as uint8 (N, 28, 28) and check them against their labels."""
    return load_labelled(root, dataset, split)[0]


def load_labelled(root: Path, dataset: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Read ``train`` or ``test`` images (uint8, (N, 28, 28)) and their labels (uint8, (N,)), checked."""
    images_path = find_file(root, FILES[f"{split}_images"], dataset)
    labels_path = find_file(root, FILES[f"{split}_labels"], dataset)
    try:
        images = read_idx(images_path, ndim=3)
        labels = read_idx(labels_path, ndim=1)
        if images.dtype != np.uint8 or labels.dtype != np.uint8:
            raise DataError(f"{images_path}: expected unsigned-byte IDX files, got {images.dtype} images and "
                            f"{labels.dtype} labels")
        if images.shape[1:] != (28, 28):
            raise DataError(f"{images_path}: expected 28x28 images, got {images.shape[1]}x{images.shape[2]}")
        if len(images) != len(labels):
            raise DataError(f"{images_path}: {len(images)} images but {labels_path.name} has {len(labels)} labels")
    except DataError as err:
        raise DataError(f"{err}. {how_to_get(root, dataset)}") from None
    return images, labels


def load_mnist_splits(root: Path, dataset: str, valid_size: int) -> dict[str, np.ndarray]:
    """Return float32 arrays (N, 1, 28, 28) in [0, 1] for train, valid and test."""
    train = load_images(root, dataset, "train")
    test = load_images(root, dataset, "test")
    if not 0 <= valid_size < len(train):
        raise DataError(f"data.valid_size={valid_size} must be below the {len(train)} training images of {root}")
    cut = len(train) - valid_size
    as_float = lambda a: (a.astype(np.float32) / 255.0)[:, None]
    return {"train": as_float(train[:cut]), "valid": as_float(train[cut:]), "test": as_float(test)}
