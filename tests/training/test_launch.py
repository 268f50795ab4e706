"""gannet.training.launch: the checks before a run starts, and the resume rules, without the CLI."""

import pytest

from gannet.config import ConfigError
from gannet.errors import UsageError
from gannet.training import launch
from gannet.training.run_dir import RunDir

TINY = ["train.steps=20", "train.progress=false", "train.tensorboard=false", "monitor.enabled=false"]
CONFIG = {"description": "a dict", "data": {"name": "toy-ring"}}


def test_folders_that_cannot_hold_a_run_are_refused_before_anything_is_written(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match="is an existing file, not a run folder"):
        launch.train("toy-ring", tmp_path / "file", TINY)
    with pytest.raises(UsageError, match="is a file, so no folder can be made below it"):
        launch.train("toy-ring", tmp_path / "file" / "run", TINY)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    with pytest.raises(UsageError, match=r"holds files that are not a gannet run \(notes.txt\)"):
        launch.train("toy-ring", tmp_path / "mine", TINY)
    with pytest.raises(UsageError, match="--resume needs --out"):
        launch.train("toy-ring", None, TINY, resume=True)
    with pytest.raises(ConfigError, match="train.k"):
        launch.train("toy-ring", tmp_path / "new", [*TINY, "train.k=0"])
    assert not (tmp_path / "new").exists() and (tmp_path / "mine" / "notes.txt").read_text() == "keep"


def test_a_dict_config_trains_and_resumes_with_the_rules_of_any_config(tmp_path):
    lines = []
    folder = launch.train(CONFIG, tmp_path / "run", TINY, log=lines.append)
    assert folder == tmp_path / "run" and RunDir(folder).last.exists()
    assert any("training 'config dict' on toy-ring" in line for line in lines)
    # resuming with another dict that changes what is trained is refused, naming the key
    other = {"data": {"name": "toy-grid"}}
    with pytest.raises(UsageError, match="data.name: run has 'toy-ring', config dict has 'toy-grid'"):
        launch.train(other, folder, ["train.steps=30"], resume=True)
    # its own dict, or the run's saved config.yaml, resumes; typed overrides mix with text ones
    launch.train(CONFIG, folder, [("train.steps", 30), "train.progress=false", ("monitor.enabled", False)], resume=True,
                 log=lines.append)
    launch.train(str(RunDir(folder).config), folder, [("train.steps", 40)], resume=True, log=lines.append)
    from gannet.checkpoint import load_checkpoint

    assert load_checkpoint(RunDir(folder).last)["step"] == 40


def test_a_second_ctrl_c_is_a_keyboard_interrupt():
    assert issubclass(launch.StoppedAtOnce, KeyboardInterrupt)
    assert "train.steps" in launch.RESUMABLE_KEYS and "loss.name" not in launch.RESUMABLE_KEYS
