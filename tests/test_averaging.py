import pytest
import torch

from gannet.averaging import average_generator, checkpoints_in_window, trailing_averages
from gannet.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from gannet.cli import main
from gannet.config import load_config
from gannet.training.run_dir import RunDir
from gannet.training.trainer import Trainer
from gannet.sampling import generated_samples


@pytest.fixture
def kept_run(tmp_path):
    cfg = load_config("digits", ["train.steps=30", "train.checkpoint_every=10", "train.keep_checkpoints=true",
                                 "train.progress=false", "train.tensorboard=false", "device=cpu",
                                 "monitor.enabled=false"])
    Trainer(cfg, tmp_path / "run").run()
    return RunDir(tmp_path / "run")


def test_the_average_is_the_mean_of_the_raw_weights_and_says_so(kept_run):
    window = checkpoints_in_window(kept_run.snapshots(), 10)
    assert [p.name for p in window] == ["step_0000010.pt", "step_0000020.pt", "step_0000030.pt"]
    states = [load_checkpoint(p) for p in window]
    averaged = average_generator(window)
    for name, value in averaged["generator"].items():
        expected = sum(s["generator"][name].double() for s in states) / 3
        torch.testing.assert_close(value, expected.float())
    assert averaged["averaged"] and averaged["average_of"] == [10, 20, 30] and averaged["step"] == 30
    assert "discriminator" not in averaged and averaged["contents"] == "generator"
    assert generated_samples(averaged, 4).shape[0] == 4
    assert checkpoints_in_window(kept_run.snapshots(), 5, 20)[-1].name == "step_0000020.pt"


def test_averages_are_not_averaged_again_and_runs_are_not_mixed(kept_run, tmp_path):
    save_checkpoint(average_generator(kept_run.snapshots()[1:]), tmp_path / "avg.pt")
    with pytest.raises(CheckpointError, match="already an average"):
        average_generator([tmp_path / "avg.pt"])
    other = load_checkpoint(kept_run.last)
    other["generator"] = {"w": torch.zeros(2)}
    save_checkpoint(other, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="other weights"):
        average_generator([kept_run.last, tmp_path / "other.pt"])
    with pytest.raises(ValueError, match="no checkpoints"):
        average_generator([])


def test_cli_average_writes_a_file_that_eval_reads(kept_run, tmp_path, capsys):
    out = tmp_path / "g.pt"
    assert main(["average", str(kept_run.root), "--from", "20", "--out", str(out)]) == 0
    assert load_checkpoint(out)["average_of"] == [20, 30]
    assert main(["eval", str(out), "--split", "valid", "--samples", "50", "--valid", "20"]) == 0
    import json

    record = json.loads((tmp_path / "eval_parzen_g.json").read_text())
    assert record["protocol"]["generator"].startswith("uniform average of G's weights over 2 kept checkpoints")
    assert "best_valid" not in load_checkpoint(out)  # the raw run's monitor value does not describe the average
    # exporting an average again keeps it, and what it is
    assert main(["export", str(out), "--generator", "average", "--out", str(tmp_path / "again.pt")]) == 0
    again = load_checkpoint(tmp_path / "again.pt")
    assert again["average_of"] == [20, 30] and all(torch.equal(again["generator"][k], v)
                                                   for k, v in load_checkpoint(out)["generator"].items())
    capsys.readouterr()
    assert main(["eval", str(out), "--generator", "raw", "--samples", "50"]) == 2
    assert "holds only an average of G's weights" in capsys.readouterr().err
    assert main(["average", str(kept_run.root), "--from", "40", "--out", str(out)]) == 2
    assert "no kept checkpoint between steps 40" in capsys.readouterr().err


def test_trailing_averages_are_the_window_averages_loading_each_checkpoint_once(kept_run, monkeypatch):
    import gannet.averaging

    kept = kept_run.snapshots()  # steps 0, 10, 20, 30
    loads = []
    real_load = gannet.averaging.load_checkpoint
    monkeypatch.setattr(gannet.averaging, "load_checkpoint", lambda path: loads.append(path) or real_load(path))
    got = dict(trailing_averages(kept, [20, 0, 10, 25]))
    assert len(loads) == len(kept) == 4  # once each, not once per window
    monkeypatch.setattr(gannet.averaging, "load_checkpoint", real_load)
    assert sorted(got) == [0, 10, 20, 25]
    for start, averaged in got.items():
        expected = average_generator(checkpoints_in_window(kept, start))
        assert averaged["average_of"] == expected["average_of"]
        for name, value in expected["generator"].items():
            torch.testing.assert_close(averaged["generator"][name], value)
    assert got[25]["average_of"] == [30] and got[0]["average_of"] == [0, 10, 20, 30]
