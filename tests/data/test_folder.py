"""A folder of images, written by the tests with Pillow."""

import numpy as np
import pytest
from PIL import Image

from gannet.config import load_config
from gannet.data import DataError, load_dataset
from gannet.data.folder import load_image_folder


def _write(folder, n=6):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        size = (40 + 4 * i, 32)  # landscape images of several widths
        Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(folder / f"{i}.png")
    (folder / "notes.txt").write_text("not an image")


def test_images_are_scaled_cropped_and_stacked(tmp_path):
    _write(tmp_path / "imgs")
    x = load_image_folder(tmp_path / "imgs", 16)
    assert x.shape == (6, 3, 16, 16) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    assert load_image_folder(tmp_path / "imgs", 16, grey=True).shape == (6, 1, 16, 16)
    # a uniform image stays uniform through resize and crop
    Image.new("RGB", (50, 20), (255, 0, 51)).save(tmp_path / "imgs" / "z.png")
    last = load_image_folder(tmp_path / "imgs", 16)[-1]
    np.testing.assert_allclose(last[:, 5, 5], [1.0, 0.0, 0.2], atol=1e-6)


def test_the_dataset_needs_a_size_and_names_bad_files(tmp_path):
    _write(tmp_path / "imgs")
    cfg = load_config("digits", ["data.name=image-folder", f"data.root={tmp_path / 'imgs'}", "data.image_size=32",
                                 "data.valid_size=2"]).data
    data = load_dataset(cfg)
    assert data.train.shape == (4, 3, 32, 32) and data.valid.shape == (2, 3, 32, 32)
    cfg.image_size = None
    with pytest.raises(DataError, match="data.image_size"):
        load_dataset(cfg)
    (tmp_path / "imgs" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match="broken.png: not a readable image"):
        load_image_folder(tmp_path / "imgs", 8)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="empty: no image files"):
        load_image_folder(tmp_path / "empty", 8)
    with pytest.raises(DataError, match="missing: no such folder"):
        load_image_folder(tmp_path / "missing", 8)
