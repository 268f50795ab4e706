import json

import numpy as np
import pytest

from gannet.cli import main
from gannet.data.mnist import load_labelled
from gannet.features.classifier import (
    ClassifierError,
    classifier_for,
    load_classifier,
    save_classifier,
    train_classifier,
)
from gannet.metrics.classes import class_statistics
from gannet.metrics.frechet import frechet_distance_of_features
from gannet.metrics.manifold import density_coverage, precision_recall
from tests.conftest import real_data_root, requires_real_mnist


def test_cache_round_trip_checksum_and_clear_errors(tmp_path, fake_mnist):
    trained = train_classifier("mnist", fake_mnist, epochs=1, limit=200)
    assert 0 <= trained.record["test_accuracy"] <= 1 and trained.record["train_images"] == 200
    path = save_classifier(trained, tmp_path)
    loaded = load_classifier("mnist", tmp_path)
    assert loaded.record["sha256"] == json.loads(path.with_suffix(".json").read_text())["sha256"]
    images = np.random.default_rng(0).random((5, 1, 28, 28), dtype=np.float32)
    a, b = trained.net.features_and_probabilities(images), loaded.net.features_and_probabilities(images)
    assert np.array_equal(a[0], b[0]) and a[0].shape == (5, 128) and np.allclose(a[1].sum(1), 1)
    with open(path, "r+b") as f:  # corrupt one byte: refused, with the command that retrains it
        f.seek(100)
        byte = f.read(1)
        f.seek(100)
        f.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(ClassifierError, match="does not match its record.*gannet classifier train mnist --force"):
        load_classifier("mnist", tmp_path)
    with pytest.raises(ClassifierError, match="no classifier for fashion-mnist yet"):
        load_classifier("fashion-mnist", tmp_path)
    with pytest.raises(ClassifierError, match="gannet trains one for mnist, fashion-mnist"):
        classifier_for("digits", folder=tmp_path)


def test_classifier_command_trains_caches_and_shows(tmp_path, fake_mnist, monkeypatch, capsys):
    monkeypatch.setenv("GANNET_CACHE", str(tmp_path / "cache"))
    assert main(["classifier", "show", "mnist"]) == 2
    assert "gannet classifier train mnist" in capsys.readouterr().err
    assert main(["classifier", "train", "mnist", "--root", str(fake_mnist), "--epochs", "1"]) == 0
    assert "test accuracy" in capsys.readouterr().out
    assert main(["classifier", "train", "mnist", "--root", str(fake_mnist)]) == 0
    assert "is cached" in capsys.readouterr().err  # not retrained without --force
    assert main(["classifier", "show", "mnist"]) == 0
    assert json.loads(capsys.readouterr().out)["dataset"] == "mnist"


@requires_real_mnist
def test_every_metric_separates_held_out_data_from_a_one_class_generator():
    """Real held-out images score near the ceiling; 'samples' that are all one digit are flagged by
    class coverage, class KL, recall, coverage and the Frechet distance, while precision stays high
    (each sample is realistic): the signature of mode collapse."""
    root = real_data_root() / "mnist"
    trained = train_classifier("mnist", root, epochs=1, limit=12_000)
    assert trained.record["test_accuracy"] > 0.93
    test_images, _ = load_labelled(root, "mnist", "test")
    train_images, train_labels = load_labelled(root, "mnist", "train")
    held_out = train_images[50_000:55_000]
    ones = train_images[50_000:][train_labels[50_000:] == 1][:1000]
    as_float = lambda a: a.astype(np.float32)[:, None] / 255
    real, _ = trained.net.features_and_probabilities(as_float(test_images[:5000]))
    good, good_p = trained.net.features_and_probabilities(as_float(held_out))
    bad, bad_p = trained.net.features_and_probabilities(as_float(ones))
    freq = np.bincount(train_labels, minlength=10)
    good_c, bad_c = class_statistics(good_p, freq), class_statistics(bad_p, freq)
    assert good_c["classes_covered"] == 10 and bad_c["classes_covered"] <= 2
    assert good_c["class_kl"] < 0.01 and bad_c["class_kl"] > 1.5
    assert good_c["classifier_score"] > 6 and bad_c["classifier_score"] < 2  # at most 10
    pr_good, pr_bad = precision_recall(real=real, fake=good), precision_recall(real=real, fake=bad)
    assert pr_good["recall"] > 0.8 and pr_bad["recall"] < 0.3 and pr_bad["precision"] > 0.7
    dc_good, dc_bad = density_coverage(real=real, fake=good), density_coverage(real=real, fake=bad)
    assert dc_good["coverage"] > 0.85 and dc_bad["coverage"] < 0.3
    assert frechet_distance_of_features(real=real, fake=bad) > 10 * frechet_distance_of_features(real=real, fake=good)
