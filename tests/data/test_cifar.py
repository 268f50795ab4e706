"""CIFAR-10 python batches, written by the tests in the real format, read without unsafe unpickling."""

import os
import pickle

import numpy as np
import pytest

from gannet.config import load_config
from gannet.data import DataError, load_dataset
from gannet.data.cifar import TEST_FILE, TRAIN_FILES, read_batch


def write_fake_cifar(root, n=20, seed=0, prototypes=0):
    """A cifar-10-batches-py folder with ``n`` images per batch, pickled like the real files: uniform
    noise, or with ``prototypes`` > 0 each image one of that many smooth colour patterns plus a little
    noise (data with structure a model can learn)."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    grid = np.linspace(0, 2 * np.pi, 32)
    patterns = [128 + 100 * np.sin(np.add.outer(grid * (1 + i % 3), grid * (i // 3)) + np.arange(3)[:, None, None])
                for i in range(prototypes)]
    for name in (*TRAIN_FILES, TEST_FILE):
        labels = rng.integers(0, prototypes or 10, n)
        if prototypes:
            images = np.stack([patterns[k] for k in labels]) + rng.normal(0, 8, (n, 3, 32, 32))
            data = np.clip(images, 0, 255).astype(np.uint8).reshape(n, 3072)
        else:
            data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        batch = {b"batch_label": name.encode(), b"labels": labels.tolist(), b"data": data,
                 b"filenames": [b"x.png"] * n}
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f, protocol=2)
    return root


def test_batches_become_images_in_channel_planes(tmp_path):
    write_fake_cifar(tmp_path)
    with open(tmp_path / "cifar-10-batches-py" / "data_batch_1", "rb") as f:
        raw = pickle.load(f, encoding="bytes")  # the test's own file: safe to unpickle here
    images, labels = read_batch(tmp_path / "cifar-10-batches-py" / "data_batch_1")
    assert images.shape == (20, 3, 32, 32) and images.dtype == np.float32
    # pixel (row 2, col 5) of the green plane of image 3 is byte 1024 + 2*32 + 5 of its row
    assert images[3, 1, 2, 5] == pytest.approx(raw[b"data"][3, 1024 + 69] / 255)
    assert labels.tolist() == raw[b"labels"]


def test_the_dataset_splits_train_valid_test(tmp_path):
    write_fake_cifar(tmp_path)
    cfg = load_config("digits", ["data.name=cifar10", f"data.root={tmp_path}", "data.valid_size=30"]).data
    data = load_dataset(cfg)
    assert data.train.shape == (70, 3, 32, 32) and data.valid.shape == (30, 3, 32, 32)
    assert data.test.shape == (20, 3, 32, 32) and data.kind == "image"


class _Exploit:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_a_pickle_that_would_run_code_is_refused(tmp_path):
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({b"data": _Exploit(), b"labels": []}, protocol=2))
    with pytest.raises(DataError, match="refusing to load posix.system|refusing to load os.system"):
        read_batch(path)


def test_missing_and_malformed_batches_say_what_is_wrong(tmp_path):
    with pytest.raises(DataError, match="CIFAR-10 batch not found"):
        read_batch(tmp_path / "data_batch_1")
    path = tmp_path / "bad"
    path.write_bytes(pickle.dumps({b"data": np.zeros((2, 10), np.uint8), b"labels": [0, 1]}, protocol=2))
    with pytest.raises(DataError, match=r"uint8 array of shape \(N, 3072\)"):
        read_batch(path)
