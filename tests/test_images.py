import numpy as np
import pytest
from PIL import Image

from gannet.images import image_grid, save_image_grid, save_points_plot


def test_grid_layout_and_values():
    images = np.zeros((5, 1, 2, 3), np.float32)
    images[4] = 1.0
    grid = image_grid(images, nrow=2, pad=1)
    assert grid.shape == (1 + 3 * 3, 1 + 2 * 4) and grid.dtype == np.uint8
    assert (grid[7:9, 1:4] == 255).all() and grid[1:3, 1:4].max() == 0  # 5th image: row 3, column 1


def test_colour_and_clipping():
    grid = image_grid(np.full((1, 3, 2, 2), 2.0), pad=0)
    assert grid.shape == (2, 2, 3) and (grid == 255).all()
    with pytest.raises(ValueError, match="expected images"):
        image_grid(np.zeros((2, 4, 2, 2)))


def test_saved_files(tmp_path):
    save_image_grid(np.random.default_rng(0).random((16, 1, 8, 8)), tmp_path / "g.png")
    assert Image.open(tmp_path / "g.png").size == (7 * (4 * 10 + 2), 7 * (4 * 10 + 2))
    save_points_plot(np.random.default_rng(0).normal(size=(100, 2)), tmp_path / "p.png",
                     reference=np.zeros((10, 2)))
    save_points_plot(np.random.default_rng(0).normal(size=(100, 1)), tmp_path / "h.png")
    assert Image.open(tmp_path / "p.png").format == "PNG" and Image.open(tmp_path / "h.png").format == "PNG"
