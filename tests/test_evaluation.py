import json

import numpy as np
import pytest

from gannet.checkpoint import load_checkpoint
from gannet.cli import main
from gannet.config import load_config
from gannet.data import DataError
from gannet.evaluation import parzen_eval, run_folder_of
from gannet.metrics.parzen import evaluate
from gannet.training.run_dir import RunDir
from gannet.training.trainer import Trainer
from gannet.sampling import generated_samples

QUIET = ["train.progress=false", "train.tensorboard=false", "device=cpu"]


@pytest.fixture
def mnist_like_run(tmp_path, fake_mnist):
    cfg = load_config("mnist-2014", [*QUIET, f"data.root={fake_mnist}", "data.valid_size=100", "train.steps=4",
                                     "generator.hidden=[16]", "discriminator.hidden=[8]"])
    Trainer(cfg, tmp_path / "run").run()
    return tmp_path / "run"


def test_parzen_eval_follows_the_protocol_and_records_it(mnist_like_run, fake_mnist):
    path = RunDir(mnist_like_run).last
    record = parzen_eval(path, n_samples=300, n_valid=40, seed=3)
    state = load_checkpoint(path)
    samples = generated_samples(state, 300, seed=3)
    from gannet.data.mnist import load_mnist_splits

    splits = load_mnist_splits(fake_mnist, "mnist", 100)
    direct = evaluate(samples, splits["valid"][:40], splits["test"])
    assert record["mean"] == pytest.approx(direct.mean, rel=1e-12) and record["sigma"] == direct.sigma
    assert (record["n_samples"], record["n_valid"], record["n_test"]) == (300, 40, 50)
    protocol = record["protocol"]
    assert protocol["n_samples"] == 300 and protocol["sample_seed"] == 3 and protocol["step"] == 4
    assert "first 40 validation" in protocol["sigma_chosen_on"] and "all 50 test" in protocol["scored"]
    assert len(protocol["sigma_grid"]) == 10


def test_cli_eval_writes_json_in_the_run_folder(mnist_like_run, capsys):
    assert main(["eval", str(mnist_like_run), "--metric", "parzen", "--samples", "200", "--valid", "30"]) == 0
    out = capsys.readouterr().out
    assert "Parzen log-likelihood:" in out and "validation curve" in out
    saved = json.loads((mnist_like_run / "eval_parzen_best.json").read_text())
    assert saved["n_samples"] == 200 and np.isfinite(saved["mean"])
    assert run_folder_of(RunDir(mnist_like_run).best) == mnist_like_run


def test_datasets_without_a_test_split(tmp_path, capsys):
    Trainer(load_config("digits", [*QUIET, "train.steps=2"]), tmp_path / "run").run()
    with pytest.raises(DataError, match="no test split; use --split valid"):
        parzen_eval(RunDir(tmp_path / "run").last, n_samples=50, n_valid=20)
    assert main(["eval", str(tmp_path / "run"), "--samples", "50", "--valid", "20", "--split", "valid"]) == 0


def test_cli_figures_2_and_3_and_plot(mnist_like_run, tmp_path):
    from PIL import Image

    for figure in ("2", "3"):
        out = tmp_path / f"fig{figure}.png"
        assert main(["figures", str(mnist_like_run), "--figure", figure, "--out", str(out)]) == 0
        assert Image.open(out).mode in ("RGB", "L")
    fig2 = np.asarray(Image.open(tmp_path / "fig2.png").convert("RGB"))
    assert ((fig2 == [255, 255, 0]).all(-1)).any()  # the outlined nearest neighbours
    assert main(["plot", str(mnist_like_run)]) == 0
    assert (mnist_like_run / "curves.png").exists()
    assert main(["figures", str(mnist_like_run), "--figure", "2", "--out", str(tmp_path / "x.jpg")]) == 2
    assert main(["plot", str(tmp_path)]) == 2


def test_eval_all_on_an_image_run_writes_every_metric_with_its_protocol(mnist_like_run, fake_mnist, tmp_path,
                                                                        monkeypatch, capsys):
    from gannet.features.classifier import save_classifier, train_classifier

    monkeypatch.setenv("GANNET_CACHE", str(tmp_path / "cache"))
    save_classifier(train_classifier("mnist", fake_mnist, epochs=1, limit=100))
    assert main(["eval", str(mnist_like_run), "--metric", "all", "--samples", "200", "--valid", "40",
                 "--checkpoint", "last"]) == 0
    out = capsys.readouterr().out
    assert "Parzen log-likelihood" in out and "real (valid)" in out
    record = json.loads((mnist_like_run / "eval_classifier_last.json").read_text())
    assert (mnist_like_run / "eval_parzen_last.json").exists()
    generated = record["generated"]
    for key in ("frechet_distance", "kernel_distance", "precision", "recall", "density", "coverage",
                "classes_covered", "class_kl", "classifier_score"):
        assert key in generated and key in record["real_reference"]
    protocol = record["protocol"]
    assert protocol["n_samples"] == 200 and protocol["step"] == 4 and len(protocol["feature_network_sha256"]) == 64
    assert "not Inception-v3" in protocol["feature_network"] and "raw G" in protocol["generator"]
    assert "all 50 test images" in protocol["reference_set"]
    assert "k = 3" in protocol["precision_recall"] and "k = 5" in protocol["density_coverage"] and "k" not in generated


def test_eval_modes_on_a_toy_run_and_clear_errors_for_the_wrong_data(tmp_path, mnist_like_run, capsys):
    run = tmp_path / "ring"
    Trainer(load_config("toy-ring", [*QUIET, "train.steps=20"]), run).run()
    assert main(["eval", str(run), "--metric", "all", "--checkpoint", "last"]) == 0
    out = capsys.readouterr().out
    assert "Parzen log-likelihood" in out and "modes covered:" in out
    record = json.loads((run / "eval_modes_last.json").read_text())
    assert record["modes"] == 8 and 0 <= record["modes_covered"] <= 8
    assert 0 <= record["histogram_jsd"] <= np.log(2) + 1e-12 and record["protocol"]["n_samples"] == 2500
    assert main(["eval", str(run), "--metric", "classifier"]) == 2
    assert "classifier metrics need one of mnist, fashion-mnist" in capsys.readouterr().err
    assert main(["eval", str(mnist_like_run), "--metric", "modes"]) == 2
    assert "mode metrics need a 2-D toy mixture" in capsys.readouterr().err


def test_inception_metric_needs_a_weights_file_and_checks_it(mnist_like_run, tmp_path, capsys):
    assert main(["eval", str(mnist_like_run), "--metric", "inception"]) == 2
    assert "needs --inception-weights" in capsys.readouterr().err
    fake = tmp_path / "pt_inception.pth"
    fake.write_bytes(b"not the weights")
    assert main(["eval", str(mnist_like_run), "--metric", "inception", "--inception-weights", str(fake)]) == 2
    assert "expected 6726825d" in capsys.readouterr().err


def test_generator_option_picks_g_or_its_average(tmp_path, fake_mnist, capsys, monkeypatch):
    cfg = load_config("mnist-2014", [*QUIET, f"data.root={fake_mnist}", "data.valid_size=100", "train.steps=6",
                                     "generator.hidden=[16]", "discriminator.hidden=[8]", "train.ema=0.5"])
    Trainer(cfg, tmp_path / "run").run()
    last = RunDir(tmp_path / "run").last
    state = load_checkpoint(last)
    for which in ("auto", "raw"):
        assert main(["eval", str(last), "--generator", which, "--samples", "100", "--valid", "30"]) == 0
    auto = json.loads((tmp_path / "run" / "eval_parzen_last.json").read_text())
    raw = json.loads((tmp_path / "run" / "eval_parzen_last_raw.json").read_text())
    assert auto["protocol"]["generator"].startswith("exponential moving average")
    assert raw["protocol"]["generator"].startswith("raw G") and "moving average not used" in raw["protocol"]["generator"]
    from gannet.data.mnist import load_mnist_splits

    splits = load_mnist_splits(fake_mnist, "mnist", 100)
    direct = evaluate(generated_samples({**state, "generator_ema": None}, 100), splits["valid"][:30], splits["test"])
    assert raw["mean"] == pytest.approx(direct.mean, rel=1e-12) and raw["mean"] != auto["mean"]

    assert main(["sample", str(last), "-n", "4", "--generator", "raw", "--out", str(tmp_path / "raw.npy")]) == 0
    assert np.array_equal(np.load(tmp_path / "raw.npy"), generated_samples({**state, "generator_ema": None}, 4))
    assert main(["export", str(last), "--generator", "average", "--out", str(tmp_path / "avg.pt")]) == 0
    exported = load_checkpoint(tmp_path / "avg.pt")
    assert all(np.array_equal(exported["generator"][k], state["generator_ema"][k]) for k in state["generator_ema"])
    assert exported.get("generator_ema") is None and exported["averaged"]  # the average alone: half the file
    monkeypatch.setenv("GANNET_DATA", str(fake_mnist.parent))  # where an exported file finds its data
    assert main(["eval", str(tmp_path / "avg.pt"), "--samples", "100", "--valid", "30"]) == 0
    from_file = json.loads((tmp_path / "eval_parzen_avg.json").read_text())
    assert from_file["mean"] == auto["mean"] and from_file["protocol"]["generator"].startswith("exponential moving")
    capsys.readouterr()
    assert main(["eval", str(tmp_path / "avg.pt"), "--generator", "raw", "--samples", "50"]) == 2
    assert "holds only an average of G's weights" in capsys.readouterr().err

    Trainer(load_config("mnist-2014", [*QUIET, f"data.root={fake_mnist}", "data.valid_size=100", "train.steps=2",
                                       "generator.hidden=[16]", "discriminator.hidden=[8]"]), tmp_path / "plain").run()
    capsys.readouterr()
    assert main(["eval", str(tmp_path / "plain"), "--generator", "average", "--samples", "50"]) == 2
    assert "holds no moving average of G" in capsys.readouterr().err


def test_infogan_run_codes_metric_and_traversal_figure(tmp_path, fake_mnist, capsys):
    from PIL import Image

    cfg = load_config("infogan-mnist", [*QUIET, f"data.root={fake_mnist}", "data.valid_size=100", "train.steps=3",
                                        "generator.width=8", "discriminator.width=8", "train.batch_size=16"])
    Trainer(cfg, tmp_path / "run").run()
    assert main(["eval", str(tmp_path / "run"), "--metric", "codes"]) == 0
    assert "categorical code as a classifier" in capsys.readouterr().out
    record = json.loads((tmp_path / "run" / "eval_codes_best.json").read_text())
    table = np.array(record["contingency"])
    assert table.shape == (10, 10) and table.sum() == 50  # every test image, once
    assert record["accuracy"] == pytest.approx(table[range(10), record["matching"]].sum() / 50)
    assert sum(record["code_counts"]) == 50

    assert main(["figures", str(tmp_path / "run"), "--figure", "codes", "--code", "1",
                 "--out", str(tmp_path / "c1.png")]) == 0
    width, height = Image.open(tmp_path / "c1.png").size
    assert width == height  # 10 rows of 10
    assert main(["eval", str(tmp_path / "run"), "--metric", "all", "--samples", "50"]) == 0
    assert (tmp_path / "run" / "eval_codes_best.json").exists()
    capsys.readouterr()
    assert main(["figures", str(tmp_path / "run"), "--figure", "codes", "--code", "5", "--out",
                 str(tmp_path / "c5.png")]) == 2
    assert "1..2" in capsys.readouterr().err
