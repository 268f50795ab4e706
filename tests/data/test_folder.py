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


def _uniform(folder, name, mode, value):
    """A 10 x 6 image of one colour, saved as ``name`` (the extension picks the format)."""
    folder.mkdir(parents=True, exist_ok=True)
    Image.new(mode, (10, 6), value).save(folder / name)


def test_16_bit_and_wider_pixels_keep_their_values(tmp_path):
    folder = tmp_path / "deep"
    folder.mkdir()
    for i, value in enumerate([1000, 20000, 65535]):  # 16-bit grey PNGs, read as mode I;16 (or I on older Pillow)
        Image.fromarray(np.full((6, 10), value, dtype=np.uint16)).save(folder / f"a{i}.png")
    _uniform(folder, "b.tif", "I;16B", 30000)  # big-endian 16-bit
    _uniform(folder, "c.tif", "I", 40000)  # 32-bit integers: read as 16-bit samples
    _uniform(folder, "d.tif", "F", 0.25)  # 32-bit floats: taken as already in [0, 1]
    expected = [1000 / 65535, 20000 / 65535, 1.0, 30000 / 65535, 40000 / 65535, 0.25]
    grey = load_image_folder(folder, 4, grey=True)
    assert grey.shape == (6, 1, 4, 4)
    np.testing.assert_allclose(grey.mean(axis=(1, 2, 3)), expected, rtol=1e-6)
    np.testing.assert_allclose(grey.std(axis=(1, 2, 3)), 0, atol=1e-6)
    rgb = load_image_folder(folder, 4)
    assert rgb.shape == (6, 3, 4, 4)
    np.testing.assert_allclose(rgb, np.broadcast_to(grey, rgb.shape), rtol=1e-6)


def test_wide_pixels_outside_their_range_are_refused_by_name(tmp_path):
    _uniform(tmp_path / "i", "big.tif", "I", 70000)
    with pytest.raises(DataError, match=r"big.tif: 32-bit integer pixels \(mode I\) reach 70000; expected 0..65535"):
        load_image_folder(tmp_path / "i", 4)
    _uniform(tmp_path / "f", "hot.tif", "F", 3.5)
    with pytest.raises(DataError, match=r"hot.tif: floating-point pixels \(mode F\) lie in \[3.5, 3.5\]; "
                                         r"expected \[0, 1\]"):
        load_image_folder(tmp_path / "f", 4)


@pytest.mark.parametrize("name, mode, value, rgb", [
    ("one.png", "1", 1, [1.0, 1.0, 1.0]),
    ("grey.png", "L", 51, [0.2, 0.2, 0.2]),
    ("pal.png", "P", None, [1.0, 0.0, 0.2]),
    ("cmyk.tif", "CMYK", (0, 255, 204, 0), [1.0, 0.0, 0.2]),
    ("ycc.tif", "YCbCr", None, [1.0, 0.0, 0.2]),
    ("lab.tif", "LAB", None, [1.0, 0.0, 0.2]),
])
def test_other_pixel_modes_are_read(tmp_path, name, mode, value, rgb):
    folder = tmp_path / "m"
    folder.mkdir()
    if value is None:  # palette, YCbCr and LAB images made from the RGB colour
        Image.new("RGB", (10, 6), (255, 0, 51)).convert(mode).save(folder / name)
    else:
        _uniform(folder, name, mode, value)
    x = load_image_folder(folder, 4)
    assert x.shape == (1, 3, 4, 4)
    tol = 0.05 if mode in ("YCbCr", "LAB") else 1e-6  # their round trips from RGB are not exact
    np.testing.assert_allclose(x[0, :, 1, 1], rgb, atol=tol)
    grey = load_image_folder(folder, 4, grey=True)
    assert grey.shape == (1, 1, 4, 4)
    np.testing.assert_allclose(grey[0, 0, 1, 1], np.dot([0.299, 0.587, 0.114], rgb), atol=max(tol, 1 / 255))


def test_alpha_is_composited_over_black_with_one_note(tmp_path, capsys):
    folder = tmp_path / "alpha"
    _uniform(folder, "a.png", "RGBA", (255, 0, 51, 128))  # half transparent
    _uniform(folder, "b.png", "LA", (200, 0))  # fully transparent
    _uniform(folder, "c.png", "RGBA", (10, 20, 30, 255))  # an alpha channel, but opaque: nothing is lost
    _uniform(folder, "d.tif", "PA", (0, 64))
    pal = Image.new("P", (10, 6), 0)
    pal.putpalette([255, 255, 255] * 256)
    pal.save(folder / "e.png", transparency=0)  # palette transparency
    x = load_image_folder(folder, 4)
    np.testing.assert_allclose(x[0, :, 1, 1], np.array([255, 0, 51]) * 128 / 255 / 255, atol=1 / 255)
    np.testing.assert_allclose(x[1], 0)
    np.testing.assert_allclose(x[2, :, 1, 1], np.array([10, 20, 30]) / 255, atol=1e-6)
    np.testing.assert_allclose(x[4], 0)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "4 of 5 images" in err and "composited over black" in err and str(folder) in err
    load_image_folder(folder, 4, grey=True)
    assert capsys.readouterr().err.count("4 of 5 images") == 1
    (folder / "a.png").unlink(), (folder / "b.png").unlink(), (folder / "d.tif").unlink(), (folder / "e.png").unlink()
    load_image_folder(folder, 4)
    assert capsys.readouterr().err == ""


def test_truncated_and_corrupt_images_are_named(tmp_path):
    folder = tmp_path / "cut"
    _write(folder, 2)
    data = (folder / "1.png").read_bytes()
    (folder / "1.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="1.png: not a readable image"):
        load_image_folder(folder, 8)
    _write(folder, 2)
    jpeg = folder / "2.jpg"
    Image.new("RGB", (64, 64), (1, 2, 3)).save(jpeg)
    jpeg.write_bytes(jpeg.read_bytes()[:400])
    with pytest.raises(DataError, match="2.jpg: not a readable image"):
        load_image_folder(folder, 8)
    jpeg.write_bytes(b"")
    with pytest.raises(DataError, match="2.jpg: not a readable image"):
        load_image_folder(folder, 8)


def test_images_past_the_decompression_bomb_limit_are_refused_by_name(tmp_path, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    folder = tmp_path / "bombs"
    _uniform(folder, "ok.png", "L", 3)  # 60 pixels
    assert load_image_folder(folder, 4).shape == (1, 3, 4, 4)
    for side, name in [(12, "warn.png"), (20, "huge.png")]:  # past the limit (Pillow warns), past twice it (raises)
        Image.new("L", (side, side)).save(folder / name)
        # past twice the limit Pillow does not give the sides, only the count
        with pytest.raises(DataError, match=rf"{name}: ({side} x {side} = )?{side * side} pixels, over the limit "
                                            r"of 100 \(PIL.Image.MAX_IMAGE_PIXELS\)"):
            load_image_folder(folder, 4)
        (folder / name).unlink()
    assert Image.MAX_IMAGE_PIXELS == 100  # the limit is not raised behind the caller's back
