import numpy as np
import pytest

from gannet.metrics.kernel import kernel_distance, mmd2_unbiased, polynomial_kernel


def test_unbiased_mmd_by_hand_on_two_points():
    x, y = np.array([[0.0], [1.0]]), np.array([[2.0], [3.0]])
    k = lambda a, b: (a * b + 1) ** 3
    within = (2 * k(0, 1) + 2 * k(2, 3)) / 2
    cross = sum(k(a, b) for a in (0, 1) for b in (2, 3)) * 2 / 4
    assert mmd2_unbiased(x, y) == pytest.approx(within - cross)
    assert polynomial_kernel(x, y).shape == (2, 2)


def test_kernel_distance_near_zero_for_one_distribution_and_large_for_two():
    rng = np.random.default_rng(0)
    real, same, other = rng.standard_normal((600, 8)), rng.standard_normal((600, 8)), rng.standard_normal((600, 8)) + 1
    near = kernel_distance(real=real, fake=same, subsets=20, subset_size=300)
    far = kernel_distance(real=real, fake=other, subsets=20, subset_size=300)
    assert abs(near["mean"]) < 3 * near["std"] + 1e-3  # unbiased: centred on 0, either sign
    assert far["mean"] > 20 * max(abs(near["mean"]), near["std"])
    assert near["subset_size"] == 300 and kernel_distance(real=real[:50], fake=same, subsets=2)["subset_size"] == 50
    with pytest.raises(ValueError, match="same d"):
        kernel_distance(real=real, fake=other[:, :3])
