import numpy as np
import pytest

from gannet.data.errors import DataError
from gannet.data.idx import write_idx
from gannet.data.mnist import FILES, load_mnist_splits
from tests.conftest import real_data_root, requires_real_mnist


def test_splits_of_a_small_generated_dataset(fake_mnist):
    splits = load_mnist_splits(fake_mnist, "mnist", valid_size=100)
    assert splits["train"].shape == (200, 1, 28, 28) and splits["valid"].shape == (100, 1, 28, 28)
    assert splits["test"].shape == (50, 1, 28, 28)
    assert splits["train"].dtype == np.float32 and 0 <= splits["train"].min() and splits["train"].max() <= 1


def test_missing_file_says_how_to_get_it(tmp_path):
    with pytest.raises(DataError) as err:
        load_mnist_splits(tmp_path, "fashion-mnist", 10)
    assert "train-images-idx3-ubyte.gz: file not found" in str(err.value)
    assert f"gannet data download fashion-mnist --root {tmp_path}" in str(err.value)


def test_image_and_label_counts_must_agree(fake_mnist):
    write_idx(fake_mnist / f"{FILES['train_labels']}.gz", np.zeros(299, np.uint8))
    with pytest.raises(DataError, match="300 images but train-labels-idx1-ubyte.gz has 299 labels"):
        load_mnist_splits(fake_mnist, "mnist", 100)


def test_wrong_image_size(fake_mnist):
    write_idx(fake_mnist / f"{FILES['test_images']}.gz", np.zeros((50, 20, 20), np.uint8))
    with pytest.raises(DataError, match="expected 28x28 images, got 20x20"):
        load_mnist_splits(fake_mnist, "mnist", 100)


def test_valid_size_must_leave_training_data(fake_mnist):
    with pytest.raises(DataError, match="valid_size=300"):
        load_mnist_splits(fake_mnist, "mnist", 300)


@requires_real_mnist
def test_real_mnist_splits_are_the_papers():
    splits = load_mnist_splits(real_data_root() / "mnist", "mnist", 10_000)
    assert [len(splits[k]) for k in ("train", "valid", "test")] == [50_000, 10_000, 10_000]
    assert splits["train"].mean() == pytest.approx(0.1307, abs=0.002)  # the well-known MNIST pixel mean


def test_corrupt_files_name_the_file_and_how_to_get_it(fake_mnist):
    path = fake_mnist / f"{FILES['train_images']}.gz"
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DataError) as err:
        load_mnist_splits(fake_mnist, "mnist", 100)
    assert str(path) in str(err.value) and "truncated" in str(err.value)
    assert "gannet data download mnist" in str(err.value)


def test_non_byte_idx_is_refused(fake_mnist):
    import gzip
    import struct

    content = struct.pack(">HBB", 0, 0x0D, 3) + struct.pack(">3I", 300, 28, 28) + bytes(300 * 28 * 28 * 4)
    (fake_mnist / f"{FILES['train_images']}.gz").write_bytes(gzip.compress(content))
    with pytest.raises(DataError, match="expected unsigned-byte IDX files, got >f4"):
        load_mnist_splits(fake_mnist, "mnist", 100)
