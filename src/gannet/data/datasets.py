"""One entry point, :func:`load_dataset`, from a ``data`` config to in-memory float32 splits."""

from __future__ import annotations

import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gannet.config import DataConfig
from gannet.data.errors import DataError
from gannet.data.mnist import load_mnist_splits
from gannet.data.toy import TOYS

DEFAULT_VALID = {"mnist": 10_000, "fashion-mnist": 10_000, "cifar10": 10_000, "image-folder": 0, "digits": 297,
                 "npz": 0}
TOY_DEFAULT_SIZE, TOY_DEFAULT_VALID = 50_000, 10_000


@dataclass
class Dataset:
    """Splits as float32 arrays (N, *shape); ``kind`` is 'image' (C, H, W in [0, 1], or centred on 0 under
    ``data.gcn``) or 'points' (d,)."""

    name: str
    train: np.ndarray
    valid: np.ndarray | None
    test: np.ndarray | None
    kind: str

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.train.shape[1:])


def default_root(name: str) -> Path:
    """``$GANNET_DATA/<name>`` if set, else ``~/.cache/gannet/data/<name>``."""
    base = os.environ.get("GANNET_DATA")
    return Path(base) / name if base else Path.home() / ".cache" / "gannet" / "data" / name


def load_dataset(cfg: DataConfig, seed: int = 0) -> Dataset:
    """The splits ``cfg`` names, contrast-normalised when ``data.gcn`` is set (image data only)."""
    data = _load_splits(cfg, seed)
    if cfg.gcn is not None:
        if data.kind != "image":
            raise DataError(f"data.gcn={cfg.gcn:g}: contrast normalisation applies to images; "
                            f"'{cfg.name}' holds points")
        from gannet.data.contrast import global_contrast_normalize

        data.train, data.valid, data.test = (None if split is None else global_contrast_normalize(split, cfg.gcn)
                                             for split in (data.train, data.valid, data.test))
    return data


def _load_splits(cfg: DataConfig, seed: int) -> Dataset:
    name = cfg.name
    valid_size = cfg.valid_size if cfg.valid_size is not None else DEFAULT_VALID.get(name, TOY_DEFAULT_VALID)
    if name in ("mnist", "fashion-mnist"):
        root = Path(cfg.root).expanduser() if cfg.root else default_root(name)
        splits = load_mnist_splits(root, name, valid_size)
        return Dataset(name, splits["train"], splits["valid"] if valid_size else None, splits["test"], "image")
    if name == "cifar10":  # the last valid_size of the 50,000 training images validate, as for MNIST
        from gannet.data.cifar import load_cifar10

        train, test = load_cifar10(Path(cfg.root).expanduser() if cfg.root else default_root(name))
        data = _split(name, train, valid_size, "image")
        data.test = test
        return data
    if name == "image-folder":
        from gannet.data.folder import load_image_folder

        if not cfg.root or not cfg.image_size:
            raise DataError("an image-folder dataset needs data.root (the folder) and data.image_size (the side)")
        return _split(name, load_image_folder(Path(cfg.root), cfg.image_size, cfg.grey), valid_size, "image")
    if name == "digits":
        return _split(name, _load_digits(), valid_size, "image")
    if name == "npz":
        array = _load_npz(cfg)
        return _split(name, array, valid_size, "image" if array.ndim == 4 else "points")
    if name in TOYS:
        rng = np.random.default_rng([seed, 2014])
        size = cfg.size or TOY_DEFAULT_SIZE
        points = TOYS[name].sample(size + valid_size, rng)
        data = _split(name, points, valid_size, "points")
        data.test = TOYS[name].sample(max(valid_size, 1000), np.random.default_rng([seed, 2015]))
        return data
    raise DataError(f"data.name: unknown dataset '{name}'")


def _split(name: str, array: np.ndarray, valid_size: int, kind: str) -> Dataset:
    if not 0 <= valid_size < len(array):
        raise DataError(f"data.valid_size={valid_size} must be below the {len(array)} examples of '{name}'")
    cut = len(array) - valid_size
    return Dataset(name, array[:cut], array[cut:] if valid_size else None, None, kind)


def _load_digits() -> np.ndarray:
    from sklearn.datasets import load_digits

    images = load_digits().images.astype(np.float32) / 16.0  # (1797, 8, 8), values 0..16
    return images[:, None]


def _load_npz(cfg: DataConfig) -> np.ndarray:
    if not cfg.path:
        raise DataError("data.path: set it to your .npz file when data.name is 'npz'")
    path = Path(cfg.path).expanduser()
    try:
        archive = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found (data.path)") from None
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as err:
        raise DataError(f"{path}: not a readable .npz array file ({err})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise DataError(f"{path}: a single array (.npy); expected an .npz archive (np.savez(path, x=array))")
    with archive:
        keys = list(archive.keys())
        if not keys:
            raise DataError(f"{path}: holds no arrays; expected at least one (np.savez(path, x=array))")
        key = cfg.key or (keys[0] if len(keys) == 1 else "x")
        if key not in keys:
            raise DataError(f"{path}: no array '{key}' (arrays: {', '.join(keys) or 'none'}); set data.key")
        try:
            array = archive[key]
        except ValueError as err:
            raise DataError(f"{path}: array '{key}' cannot be read without pickle ({err})") from None
        except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as err:
            raise DataError(f"{path}: array '{key}' is truncated or corrupt ({err})") from None
    if not isinstance(array, np.ndarray):  # NumPy hands back the raw bytes of a member not in .npy format
        raise DataError(f"{path}: member '{key}' is not a NumPy array (.npy); expected arrays written by np.savez")
    if array.dtype == np.uint8:
        array = array.astype(np.float32) / 255.0
    elif not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
        raise DataError(f"{path}: array '{key}' has dtype {array.dtype}; expected real numbers")
    array = array.astype(np.float32)
    if array.ndim and len(array) == 0:
        raise DataError(f"{path}: array '{key}' has shape {array.shape}: no examples; expected at least one")
    if array.ndim == 3:
        array = array[:, None]
    if array.ndim not in (2, 4) or (array.ndim == 4 and array.shape[1] not in (1, 3)):
        raise DataError(
            f"{path}: array '{key}' has shape {array.shape}; expected (N, d) vectors, (N, H, W) or (N, C, H, W) "
            f"images with C = 1 or 3"
        )
    if array.size == 0:
        raise DataError(f"{path}: array '{key}' has shape {array.shape}: examples with no values; expected (N, d) "
                        f"or images with a positive height and width")
    if not np.isfinite(array).all():
        raise DataError(f"{path}: array '{key}' contains NaN or infinite values")
    if array.ndim == 4 and (array.min() < 0 or array.max() > 1):
        raise DataError(
            f"{path}: image array '{key}' has values in [{array.min():g}, {array.max():g}]; expected [0, 1] "
            f"(or uint8 0..255)"
        )
    return array
