import numpy as np
import pytest

from gannet.metrics.matching import contingency, matched_accuracy


def test_a_relabelled_perfect_clustering_scores_one_and_the_matching_undoes_the_relabelling():
    labels = np.random.default_rng(0).integers(0, 10, 500)
    permutation = np.random.default_rng(1).permutation(10)
    clusters = permutation[labels]
    result = matched_accuracy(clusters, labels, 10, 10)
    assert result["accuracy"] == 1.0
    assert all(result["matching"][permutation[c]] == c for c in range(10))


def test_the_matching_is_one_to_one_and_maximises_the_accuracy():
    # clusters 0 and 1 both hold mostly class 0; only one of them may take it
    clusters = np.array([0, 0, 0, 1, 1, 1, 1, 2])
    labels = np.array([0, 0, 1, 0, 0, 0, 1, 1])
    table = contingency(clusters, labels, 3, 2)
    assert table.tolist() == [[2, 1], [3, 1], [0, 1]]
    result = matched_accuracy(clusters, labels, 3, 2)
    # best: cluster 1 -> class 0 (3) and cluster 0 -> class 1 (1), or cluster 2 -> class 1 (1): 4 of 8
    assert result["accuracy"] == pytest.approx(4 / 8)
    assert result["matching"][1] == 0 and sorted(result["matching"]) .count(-1) == 1


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="one length"):
        matched_accuracy(np.zeros(3, int), np.zeros(4, int), 2, 2)
