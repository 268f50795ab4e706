import numpy as np
import pytest
import torch
from PIL import Image

from gannet.figures import (
    figure_2_pad,
    interpolation_grid,
    nearest_neighbours,
    plot_metrics,
    plot_validation_curves,
    samples_with_neighbours_grid,
    save_figure_2,
    save_figure_3,
)
from gannet.models.mlp import MLPGenerator
from gannet.noise import sample_noise


def brute_force_nearest(samples: np.ndarray, train: np.ndarray) -> np.ndarray:
    flat_train = train.reshape(len(train), -1).astype(np.float64)
    return np.array([np.argmin(((flat_train - s.ravel()) ** 2).sum(1)) for s in samples.astype(np.float64)])


def test_nearest_neighbours_matches_brute_force_across_chunks():
    rng = np.random.default_rng(0)
    train = rng.random((53, 1, 4, 4), dtype=np.float32)
    samples = rng.random((17, 1, 4, 4), dtype=np.float32)
    expected = brute_force_nearest(samples, train)
    for chunk in (1, 5, 16, 4096):
        found = nearest_neighbours(samples, train, chunk=chunk)
        assert found.dtype == np.int64
        np.testing.assert_array_equal(found, expected)


def test_exact_copy_finds_itself():
    train = np.random.default_rng(1).random((40, 3, 5, 5))
    samples = train[[31, 2, 39]] + 0.0
    np.testing.assert_array_equal(nearest_neighbours(samples, train, chunk=7), [31, 2, 39])


def test_nearest_neighbours_rejects_bad_input():
    with pytest.raises(ValueError, match="empty"):
        nearest_neighbours(np.zeros((2, 4)), np.zeros((0, 4)))
    with pytest.raises(ValueError, match="values each"):
        nearest_neighbours(np.zeros((2, 4)), np.zeros((3, 5)))


def test_figure_2_layout_outline_and_neighbour_column():
    rng = np.random.default_rng(2)
    h, w, rows, cols = 6, 7, 3, 4
    train = rng.random((30, 1, h, w)) * 0.8
    samples = rng.random((rows * cols + 3, 1, h, w)) * 0.8  # extra samples are ignored
    samples[cols - 1] = train[11]  # row 0's last sample is a training image: its own neighbour
    pad = figure_2_pad(h, w)
    assert pad == 3
    grid = samples_with_neighbours_grid(samples, train, rows=rows, cols=cols)
    assert grid.dtype == np.uint8
    assert grid.shape == (pad * (rows + 1) + rows * h, pad * (cols + 2) + (cols + 1) * w, 3)

    expected = train[brute_force_nearest(samples[cols - 1 : rows * cols : cols], train)]
    assert (expected[0] == train[11]).all()
    for r in range(rows):
        y, x = pad + r * (h + pad), pad + cols * (w + pad)
        tile = grid[y : y + h, x : x + w]
        np.testing.assert_array_equal(tile[..., 0], (expected[r, 0] * 255 + 0.5).astype(np.uint8))
        assert (tile[..., 0] == tile[..., 2]).all()  # grey images fill all channels, not yellow
        frame = np.zeros(grid.shape[:2], bool)
        frame[y - 1 : y + h + 1, x - 1 : x + w + 1] = True
        frame[y : y + h, x : x + w] = False
        assert frame.sum() == 2 * (h + 2) + 2 * w
        assert (grid[frame] == [255, 255, 0]).all()
        # sample tiles carry no outline: the pixel left of the row's first sample is background
        assert tuple(grid[y, pad - 1]) == (128, 128, 128)
        first = samples[r * cols, 0]
        np.testing.assert_array_equal(grid[y : y + h, pad : pad + w, 1], (first * 255 + 0.5).astype(np.uint8))
    yellow = (grid == [255, 255, 0]).all(axis=-1)
    assert yellow.sum() == rows * (2 * (h + 2) + 2 * w)  # no yellow anywhere but the outlines


def test_figure_2_colour_black_background_and_errors():
    rng = np.random.default_rng(3)
    samples, train = rng.random((20, 3, 28, 28)) * 0.5, rng.random((8, 3, 28, 28)) * 0.5
    grid = samples_with_neighbours_grid(samples, train, pad=5, background=0.0)
    assert grid.shape == (5 * 5 + 4 * 28, 5 * 7 + 6 * 28, 3) and grid[0, 0].tolist() == [0, 0, 0]
    np.testing.assert_array_equal(grid[5:33, 5:33], (samples[0].transpose(1, 2, 0) * 255 + 0.5).astype(np.uint8))
    with pytest.raises(ValueError, match="need rows"):
        samples_with_neighbours_grid(samples[:19], train)
    with pytest.raises(ValueError, match="pad"):
        samples_with_neighbours_grid(samples, train, pad=2)
    with pytest.raises(ValueError, match="differ in shape"):
        samples_with_neighbours_grid(samples, train[:, :1])


def test_save_figure_2_upscales(tmp_path):
    rng = np.random.default_rng(4)
    save_figure_2(rng.random((20, 1, 8, 8)), rng.random((10, 1, 8, 8)), tmp_path / "fig2.png")
    image = Image.open(tmp_path / "fig2.png")
    assert image.format == "PNG" and image.mode == "RGB"
    assert image.size == (7 * (3 * 7 + 6 * 8), 7 * (3 * 5 + 4 * 8))  # scale 56 // 8, pad 3


def test_figure_2_of_signed_data_finds_neighbours_on_the_data_and_shares_one_scale(tmp_path):
    """Contrast-normalised images: the neighbour is the nearest in the data's own space, and samples
    and neighbours are divided by one number, the samples' largest magnitude (the paper's CIFAR figure)."""
    rng = np.random.default_rng(5)
    samples = rng.normal(0, 1, (20, 3, 4, 4))
    train = rng.normal(0, 1, (30, 3, 4, 4))
    train[7] = 10 * samples[4]  # far in the data; nearest to sample 4 only if each set had its own scale
    save_figure_2(samples, train, tmp_path / "fig2.png", scale=1, signed=True)
    m = np.abs(samples).max()
    expected = samples_with_neighbours_grid(0.5 + 0.5 * samples / m, 0.5 + 0.5 * train / m)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "fig2.png")), expected)
    assert 7 not in brute_force_nearest(samples[4::5], train)


def tiny_generator() -> MLPGenerator:
    torch.manual_seed(0)
    return MLPGenerator(3, [8], (1, 4, 4))


def test_interpolation_endpoints_and_midpoint():
    G = tiny_generator()
    G.train()
    rows, steps, seed = 2, 5, 7
    images = interpolation_grid(G, "normal", 3, rows=rows, steps=steps, seed=seed)
    assert images.shape == (rows * steps, 1, 4, 4) and G.training  # mode restored
    rng = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for r in range(rows):
            z_a, z_b = sample_noise("normal", 2, 3, rng)
            row = images[r * steps : (r + 1) * steps]
            np.testing.assert_allclose(row[0], G(z_a[None])[0].numpy(), rtol=0, atol=1e-6)
            np.testing.assert_allclose(row[-1], G(z_b[None])[0].numpy(), rtol=0, atol=1e-6)
            np.testing.assert_allclose(row[steps // 2], G(((z_a + z_b) / 2)[None])[0].numpy(), rtol=0, atol=1e-5)
            assert not np.allclose(row[0], row[-1])


def test_interpolation_is_seeded_and_saved(tmp_path):
    G = tiny_generator()
    a = interpolation_grid(G, "uniform", 3, seed=1)
    np.testing.assert_array_equal(a, interpolation_grid(G, "uniform", 3, seed=1))
    assert a.shape == (20, 1, 4, 4) and not np.array_equal(a, interpolation_grid(G, "uniform", 3, seed=2))
    with pytest.raises(ValueError, match="steps"):
        interpolation_grid(G, "uniform", 3, steps=1)
    save_figure_3(G, "uniform", 3, tmp_path / "fig3.png", rows=2, steps=10)
    assert Image.open(tmp_path / "fig3.png").size == (14 * (2 + 10 * 6), 14 * (2 + 2 * 6))


def training_records(n: int = 5) -> list[dict]:
    return [
        {"step": 100 * i, "epoch": 0, "d_loss": 0.7 - 0.01 * i, "g_loss": 0.6 + 0.02 * i, "value": -1.4,
         "d_real": 0.6, "d_fake": 0.4, "lr": 0.1, "momentum": 0.5, "images_per_s": 1e4}
        for i in range(1, n + 1)
    ]


def test_plot_metrics_with_and_without_validation(tmp_path):
    records = training_records()
    plot_metrics(records, tmp_path / "train_only.png")
    records.insert(3, {"step": 300, "epoch": 0, "valid_parzen_ll": 120.0, "valid_parzen_se": 2.0, "best": True})
    records.append({"step": 500, "epoch": 1, "valid_parzen_ll": 150.0, "valid_parzen_se": 1.5})
    plot_metrics(records, tmp_path / "with_valid.png")
    for name in ("train_only.png", "with_valid.png"):
        image = Image.open(tmp_path / name)
        assert image.format == "PNG" and image.size[0] > 2 * image.size[1]
    assert list(tmp_path.glob(".*.tmp")) == []


def test_plot_metrics_needs_training_records(tmp_path):
    for records in ([], [{"step": 1, "epoch": 0, "valid_parzen_ll": 1.0, "valid_parzen_se": 0.1}]):
        with pytest.raises(ValueError, match="no training records"):
            plot_metrics(records, tmp_path / "m.png")
    assert not (tmp_path / "m.png").exists()


def test_validation_curves_plot_each_run_and_refuse_runs_without_estimates(tmp_path):
    runs = {"a": [{"step": 500 * e, "epoch": e, "valid_parzen_ll": -100.0 + e} for e in range(1, 6)],
            "b": [{"step": 1, "epoch": 1, "d_loss": 0.7}]}
    plot_validation_curves(runs, tmp_path / "v.png")
    assert Image.open(tmp_path / "v.png").size[0] > 300
    with pytest.raises(ValueError, match="no run has validation estimates"):
        plot_validation_curves({"b": runs["b"]}, tmp_path / "w.png")
    assert not (tmp_path / "w.png").exists()


def test_code_traversal_varies_one_code_along_each_row():
    from gannet.figures import code_traversal_latents

    z = code_traversal_latents("normal", 5, 4, 2, code=0, rows=3, seed=1).reshape(3, 4, 11)
    assert torch.equal(z[:, :, 5:9], torch.eye(4).expand(3, 4, 4))  # columns: the categorical values in turn
    assert torch.equal(z[:, :1, :5].expand(3, 4, 5), z[:, :, :5]) and not torch.equal(z[0, 0, :5], z[1, 0, :5])
    assert torch.equal(z[:, :, 9:], torch.zeros(3, 4, 2))

    z = code_traversal_latents("normal", 5, 4, 2, code=2, rows=6, steps=5, span=2.0).reshape(6, 5, 11)
    assert torch.equal(z[:, :, 10], torch.linspace(-2, 2, 5).expand(6, 5)) and torch.equal(z[:, :, 9], torch.zeros(6, 5))
    assert torch.equal(z[:, :, 5:9].argmax(-1)[:, 0], torch.tensor([0, 1, 2, 3, 0, 1]))  # row r: value r mod 4
    assert torch.equal(z[..., :5], z[:1, :1, :5].expand(6, 5, 5))  # one z for the whole grid
    with pytest.raises(ValueError, match="1..2"):
        code_traversal_latents("normal", 5, 4, 2, code=3)
    scaled = code_traversal_latents("normal", 5, 4, 2, code=2, rows=6, steps=5, span=2.0, scale=0.1).reshape(6, 5, 11)
    assert torch.allclose(scaled[..., :5], 0.1 * z[..., :5]) and torch.equal(scaled[..., 5:], z[..., 5:])
    with pytest.raises(ValueError, match="has none"):
        code_traversal_latents("normal", 5, 0, 2, code=0)
