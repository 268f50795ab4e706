import numpy as np
import pytest

from gannet.config import DataConfig
from gannet.data import DataError, load_dataset
from gannet.data.toy import TOYS


def test_data_root_defaults_to_gannet_data(fake_mnist, monkeypatch):
    monkeypatch.setenv("GANNET_DATA", str(fake_mnist.parent))
    data = load_dataset(DataConfig(name="mnist", valid_size=50))
    assert data.train.shape == (250, 1, 28, 28) and data.kind == "image" and data.valid.shape[0] == 50


def test_digits_is_bundled_and_scaled():
    data = load_dataset(DataConfig(name="digits"))
    assert data.shape == (1, 8, 8) and len(data.train) == 1500 and len(data.valid) == 297
    assert data.train.min() == 0.0 and data.train.max() == 1.0


@pytest.mark.parametrize("name", ["toy-1d", "toy-ring", "toy-grid"])
def test_toys_are_generated_reproducibly(name):
    a = load_dataset(DataConfig(name=name, size=1000, valid_size=100), seed=5)
    b = load_dataset(DataConfig(name=name, size=1000, valid_size=100), seed=5)
    assert np.array_equal(a.train, b.train) and a.kind == "points"
    assert a.train.shape == (1000, TOYS[name].dim) and a.valid.shape == (100, TOYS[name].dim)
    nearest = np.sqrt(((a.train[:, None] - TOYS[name].centres[None]) ** 2).sum(-1)).min(1)
    assert np.quantile(nearest, 0.99) < 4 * TOYS[name].std


def test_toy_1d_moments():
    data = load_dataset(DataConfig(name="toy-1d", size=50_000))
    assert data.train.mean() == pytest.approx(3.0, abs=0.01) and data.train.std() == pytest.approx(0.5, abs=0.01)


def test_mixture_density_integrates_to_one():
    ring = TOYS["toy-ring"]
    grid = np.linspace(-3, 3, 601)
    xx, yy = np.meshgrid(grid, grid)
    p = ring.density(np.stack([xx.ravel(), yy.ravel()], 1))
    assert p.sum() * (grid[1] - grid[0]) ** 2 == pytest.approx(1.0, abs=1e-3)


def test_npz_images_vectors_and_errors(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, images=np.random.default_rng(0).integers(0, 256, (40, 12, 12), dtype=np.uint8))
    data = load_dataset(DataConfig(name="npz", path=str(path), valid_size=10))
    assert data.shape == (1, 12, 12) and data.kind == "image" and len(data.valid) == 10
    np.savez(path, x=np.zeros((30, 5)), y=np.zeros(30))
    assert load_dataset(DataConfig(name="npz", path=str(path))).kind == "points"
    with pytest.raises(DataError, match="no array 'z'.*x, y"):
        load_dataset(DataConfig(name="npz", path=str(path), key="z"))
    np.savez(path, x=np.full((4, 1, 3, 3), 2.0))
    with pytest.raises(DataError, match=r"values in \[2, 2\]; expected \[0, 1\]"):
        load_dataset(DataConfig(name="npz", path=str(path)))
    np.savez(path, x=np.array([[np.nan, 1.0]]))
    with pytest.raises(DataError, match="NaN"):
        load_dataset(DataConfig(name="npz", path=str(path)))
    np.savez(path, x=np.zeros((2, 2, 2, 2, 2)))
    with pytest.raises(DataError, match="expected \\(N, d\\) vectors"):
        load_dataset(DataConfig(name="npz", path=str(path)))
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="bad.npz: not a readable .npz"):
        load_dataset(DataConfig(name="npz", path=str(tmp_path / "bad.npz")))
    with pytest.raises(DataError, match="data.path"):
        load_dataset(DataConfig(name="npz"))


def test_npz_with_pickled_objects_is_refused(tmp_path):
    path = tmp_path / "obj.npz"
    np.savez(path, x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(DataError, match="without pickle"):
        load_dataset(DataConfig(name="npz", path=str(path)))


def test_truncated_npz_is_a_clear_error(tmp_path):
    path = tmp_path / "cut.npz"
    np.savez_compressed(path, x=np.random.default_rng(0).random((200, 30)))
    path.write_bytes(path.read_bytes()[:-300])
    with pytest.raises(DataError, match="cut.npz"):
        load_dataset(DataConfig(name="npz", path=str(path)))


@pytest.mark.parametrize("array", [np.zeros((0, 5)), np.zeros((0, 12, 12), np.uint8), np.zeros((0, 1, 3, 3))])
def test_npz_with_no_examples_is_refused_by_name(tmp_path, array):
    path = tmp_path / "none.npz"
    np.savez(path, x=array)
    with pytest.raises(DataError, match=rf"none.npz: array 'x' has shape \({array.shape[0]}, .*\): no examples; "
                                        r"expected at least one"):
        load_dataset(DataConfig(name="npz", path=str(path)))


def test_npz_with_empty_examples_is_refused_by_name(tmp_path):
    path = tmp_path / "thin.npz"
    np.savez(path, x=np.zeros((3, 0)))
    with pytest.raises(DataError, match=r"thin.npz: array 'x' has shape \(3, 0\): examples with no values"):
        load_dataset(DataConfig(name="npz", path=str(path)))
    np.savez(path, x=np.zeros((3, 1, 0, 4)))
    with pytest.raises(DataError, match=r"thin.npz: array 'x' has shape \(3, 1, 0, 4\): examples with no values"):
        load_dataset(DataConfig(name="npz", path=str(path)))


def test_npz_member_that_is_not_an_array_is_refused_by_name(tmp_path):
    import zipfile

    path = tmp_path / "odd.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "hello")
    with pytest.raises(DataError, match=r"odd.npz: member 'notes.txt' is not a NumPy array \(.npy\)"):
        load_dataset(DataConfig(name="npz", path=str(path)))
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x.npy", "not the .npy format")
        archive.writestr("y.npy", "neither")
    with pytest.raises(DataError, match=r"odd.npz: member 'x' is not a NumPy array \(.npy\)"):
        load_dataset(DataConfig(name="npz", path=str(path)))
    with zipfile.ZipFile(path, "w"):
        pass
    with pytest.raises(DataError, match="odd.npz: holds no arrays"):
        load_dataset(DataConfig(name="npz", path=str(path)))
