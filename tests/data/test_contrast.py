"""Global contrast normalisation (the paper's CIFAR-10 preprocessing) and the data.gcn setting."""

import numpy as np
import pytest

from gannet.config import load_config
from gannet.data import DataError, load_dataset
from gannet.data.contrast import global_contrast_normalize
from tests.data.test_cifar import write_fake_cifar


def test_each_image_is_centred_and_scaled_to_the_norm():
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 1, (25, 3, 4, 4)).astype(np.float32)
    out = global_contrast_normalize(images, 55.0, chunk=7)  # several chunks
    flat = out.reshape(25, -1)
    assert out.shape == images.shape and out.dtype == np.float32
    np.testing.assert_allclose(flat.mean(1), 0, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(flat, axis=1), 55, rtol=1e-5)
    centred = images.reshape(25, -1) - images.reshape(25, -1).mean(1, keepdims=True)
    np.testing.assert_allclose(flat[3], 55 * centred[3] / np.linalg.norm(centred[3]), rtol=1e-5)
    # the contrast of an image does not matter, only its pattern
    np.testing.assert_allclose(global_contrast_normalize(3 * images + 1, 55.0), out, rtol=1e-4, atol=1e-4)


def test_a_flat_image_is_only_centred():
    images = np.stack([np.full((2, 2), 0.7), np.array([[0.0, 1.0], [1.0, 0.0]])])
    out = global_contrast_normalize(images, 2.0)
    assert np.all(out[0] == 0)
    np.testing.assert_allclose(out[1], [[-1, 1], [1, -1]])


def test_data_gcn_normalises_every_split_and_refuses_points(tmp_path):
    write_fake_cifar(tmp_path)
    cfg = load_config("cifar10-2014", [f"data.root={tmp_path}", "data.valid_size=30"]).data
    data = load_dataset(cfg)
    for split in (data.train, data.valid, data.test):
        np.testing.assert_allclose(np.linalg.norm(split.reshape(len(split), -1), axis=1), 55, rtol=1e-4)
    with pytest.raises(DataError, match="data.gcn=55.*toy-grid.*points"):
        load_dataset(load_config("toy-grid", ["data.gcn=55"]).data)
