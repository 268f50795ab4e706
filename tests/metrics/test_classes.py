import math

import numpy as np
import pytest

from gannet.metrics.classes import class_statistics, classifier_score


def test_classifier_score_bounds():
    assert classifier_score(np.eye(10)[np.arange(1000) % 10]) == pytest.approx(10.0)  # confident, balanced
    assert classifier_score(np.full((50, 10), 0.1)) == pytest.approx(1.0)  # no confidence
    assert classifier_score(np.eye(10)[np.zeros(100, dtype=int)]) == pytest.approx(1.0)  # one class only


def test_class_statistics_flag_a_one_class_generator():
    freq = np.full(10, 0.1)
    balanced = class_statistics(np.eye(10)[np.arange(1000) % 10], freq)
    assert balanced["classes_covered"] == 10 and balanced["class_kl"] == pytest.approx(0.0, abs=1e-12)
    collapsed = class_statistics(np.eye(10)[np.full(1000, 3)], freq)
    assert collapsed["classes_covered"] == 1 and collapsed["class_kl"] == pytest.approx(math.log(10))
    stragglers = np.eye(10)[np.r_[np.full(995, 3), np.arange(5)]]  # 5 samples spread over classes 0-4
    assert class_statistics(stragglers, freq)["classes_covered"] == 1
    with pytest.raises(ValueError, match="sum to 1"):
        class_statistics(np.ones((3, 10)), freq)
