import pytest

from gannet.config import ConfigError, load_config
from gannet.training.run_dir import RunDir, read_metrics
from gannet.training.trainer import Trainer

QUIET = ["train.progress=false", "train.tensorboard=false", "device=cpu"]


def test_toy_run_logs_mode_coverage_on_its_schedule(tmp_path):
    cfg = load_config("toy-ring", [*QUIET, "train.steps=30", "monitor.metrics=[modes]", "monitor.metrics_every=10",
                                   "monitor.metrics_samples=500"])
    Trainer(cfg, tmp_path / "run").run()
    rows = [r for r in read_metrics(RunDir(tmp_path / "run").metrics) if "modes_covered" in r]
    assert [r["step"] for r in rows] == [10, 20, 30]
    assert all(0 <= r["modes_covered"] <= 8 and 0 <= r["histogram_jsd"] <= 0.7 for r in rows)


def test_image_run_logs_classifier_metrics_against_validation_images(tmp_path, fake_mnist, monkeypatch):
    from gannet.features.classifier import save_classifier, train_classifier

    monkeypatch.setenv("GANNET_CACHE", str(tmp_path / "cache"))
    save_classifier(train_classifier("mnist", fake_mnist, epochs=1, limit=100))
    cfg = load_config("mnist-2014", [*QUIET, f"data.root={fake_mnist}", "data.valid_size=100", "train.steps=4",
                                     "train.batch_size=20", "generator.hidden=[16]", "discriminator.hidden=[8]",
                                     "monitor.metrics=[classifier]", "monitor.metrics_every=2",
                                     "monitor.metrics_samples=60"])
    Trainer(cfg, tmp_path / "run").run()
    rows = [r for r in read_metrics(RunDir(tmp_path / "run").metrics) if "classifier_fd" in r]
    assert [r["step"] for r in rows] == [2, 4]
    for key in ("precision", "recall", "density", "coverage", "classes_covered", "class_kl", "classifier_score"):
        assert key in rows[0]


def test_metrics_that_do_not_fit_the_data_are_config_errors(tmp_path, fake_mnist):
    cfg = load_config("mnist-2014", [*QUIET, f"data.root={fake_mnist}", "data.valid_size=100",
                                     "monitor.metrics=[modes]"])
    with pytest.raises(ConfigError, match="'modes' needs a 2-D toy mixture"):
        Trainer(cfg, tmp_path / "run")
    with pytest.raises(ConfigError, match="monitor.metrics"):
        load_config("toy-ring", ["monitor.metrics=[fid]"])
