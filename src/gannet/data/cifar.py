"""CIFAR-10 from its "python version" (``cifar-10-batches-py/``: ``data_batch_1`` ... ``data_batch_5``,
``test_batch``), read without running arbitrary pickles.

The batches are Python pickles of a dict holding a uint8 array ``data`` (10,000 x 3,072, the three
1,024-pixel colour planes of each 32x32 image) and a list ``labels``. :class:`_ArrayOnlyUnpickler`
only lets a pickle build NumPy arrays and dtypes (plus plain lists, dicts, bytes and numbers). A file
that asks for anything else, which is how a malicious pickle runs code, is refused with an error.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from gannet.data.errors import DataError

TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILE = "test_batch"
_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("_codecs", "encode"),  # how protocol-2 pickles written by Python 3 store bytes
}


class _ArrayOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}: a CIFAR batch holds only arrays")
        if module.startswith("numpy") and name in ("_reconstruct", "scalar"):
            try:
                from numpy._core import multiarray  # numpy 2
            except ImportError:
                from numpy.core import multiarray  # numpy 1
            return getattr(multiarray, name)
        return super().find_class(module, name)


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 3, 32, 32) as float32 in [0, 1] and labels (N,) from one batch file."""
    try:
        with open(path, "rb") as f:
            batch = _ArrayOnlyUnpickler(f, encoding="bytes").load()
    except FileNotFoundError:
        raise DataError(f"{path}: CIFAR-10 batch not found (expected the python version, cifar-10-batches-py/)") \
            from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, KeyError, IndexError,
            MemoryError) as err:
        raise DataError(f"{path}: not a readable CIFAR-10 python batch ({type(err).__name__}: {err})") from None
    if not isinstance(batch, dict):
        raise DataError(f"{path}: expected a dict with 'data' and 'labels', got {type(batch).__name__}")
    batch = {k.decode() if isinstance(k, bytes) else k: v for k, v in batch.items()}
    data, labels = batch.get("data"), batch.get("labels")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        shape = getattr(data, "shape", None)
        raise DataError(f"{path}: 'data' must be a uint8 array of shape (N, 3072), got {shape}")
    if not isinstance(labels, (list, tuple, np.ndarray)) or len(labels) != len(data):
        raise DataError(f"{path}: 'labels' must have one entry per image ({len(data)})")
    return data.reshape(-1, 3, 32, 32).astype(np.float32) / 255.0, np.asarray(labels, dtype=np.int64)


def load_cifar10(root: Path) -> tuple[np.ndarray, np.ndarray]:
    """(train images, test images) from ``root`` (the folder holding the batch files, or its parent)."""
    root = Path(root)
    if (root / "cifar-10-batches-py").is_dir():
        root = root / "cifar-10-batches-py"
    train = np.concatenate([read_batch(root / name)[0] for name in TRAIN_FILES])
    test = read_batch(root / TEST_FILE)[0]
    return train, test
