import pytest
from PIL import Image

from gannet.checkpoint import load_checkpoint
from gannet.cli import main
from gannet.config import load_config
from gannet.toy_figure import choose_panels, save_figure_1
from gannet.training.run_dir import RunDir
from gannet.training.trainer import Trainer

QUIET = ["train.progress=false", "train.tensorboard=false", "monitor.enabled=false"]


def test_choose_panels_spreads_over_training():
    assert choose_panels(list(range(10))) == [0, 1, 4, 9]  # geometric: early change gets more panels
    assert choose_panels(list(range(31))) == [0, 2, 9, 30]
    assert choose_panels([5, 6]) == [5, 6]
    with pytest.raises(ValueError, match="keep_checkpoints"):
        choose_panels([])


def test_figure_1_from_a_toy_run(tmp_path, capsys):
    run = tmp_path / "run"
    Trainer(load_config("toy-1d", [*QUIET, "train.steps=40", "train.checkpoint_every=10"]), run).run()
    assert [p.name for p in RunDir(run).snapshots()] == [f"step_{s:07d}.pt" for s in (0, 10, 20, 30, 40)]
    out = tmp_path / "fig1.png"
    assert main(["figures", str(run), "--figure", "1", "--out", str(out)]) == 0
    assert Image.open(out).size[0] > 4 * 300
    summary = save_figure_1([load_checkpoint(p) for p in RunDir(run).snapshots()[:2]], tmp_path / "two.png")
    assert [p["step"] for p in summary["panels"]] == [0, 10]
    assert all(0 <= p["mean_abs_d_minus_half"] <= 0.5 for p in summary["panels"])


def test_figure_1_panels_show_d_flattening_to_one_half(tmp_path):
    run = tmp_path / "run"
    Trainer(load_config("toy-1d", [*QUIET, "train.steps=900"]), run).run()
    panels = save_figure_1([load_checkpoint(p) for p in choose_panels(RunDir(run).snapshots())],
                           tmp_path / "f.png")["panels"]
    assert [p["step"] for p in panels][0] == 0 and panels[-1]["step"] == 900
    assert panels[0]["mean_abs_d_minus_half"] > 0.05  # at the start D tells p_data from p_g
    assert panels[-1]["mean_abs_d_minus_half"] < 0.02  # once p_g ~ p_data, D ~ 1/2


def test_figure_1_needs_a_toy_1d_run(tmp_path, capsys):
    run = tmp_path / "ring"
    Trainer(load_config("toy-ring", [*QUIET, "train.steps=4", "train.keep_checkpoints=true"]), run).run()
    with pytest.raises(ValueError, match="needs a toy-1d run"):
        save_figure_1([load_checkpoint(RunDir(run).last)], tmp_path / "x.png")
    assert main(["figures", str(run), "--figure", "1", "--out", str(tmp_path / "x.png")]) == 2
    assert "needs a toy-1d run" in capsys.readouterr().err
    assert main(["theory", "optimal-d", "--run", str(run)]) == 2
    assert main(["theory", "optimal-d", "--steps", "0"]) == 2
