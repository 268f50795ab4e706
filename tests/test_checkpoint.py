import pickle

import pytest
import torch

from gannet.checkpoint import CheckpointError, load_checkpoint, save_checkpoint


class _Payload:
    """An object whose unpickling would run code: it writes a marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('pwned')",))


def test_round_trip(tmp_path):
    state = {"step": 3, "generator": {"w": torch.ones(2)}, "config": {"seed": 1, "hidden": [1, 2], "x": None}}
    save_checkpoint(state, tmp_path / "c.pt")
    loaded = load_checkpoint(tmp_path / "c.pt", required=("step", "generator", "config"))
    assert loaded["step"] == 3 and torch.equal(loaded["generator"]["w"], torch.ones(2))
    assert loaded["config"] == state["config"]


def test_malicious_torch_checkpoint_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "marker"
    path = tmp_path / "evil.pt"
    torch.save({"format": "gannet-checkpoint", "version": 1, "step": 0, "payload": _Payload(marker)}, path)
    with pytest.raises(CheckpointError, match="evil.pt: refused to load"):
        load_checkpoint(path)
    assert not marker.exists()


def test_malicious_plain_pickle_is_refused(tmp_path):
    marker = tmp_path / "marker"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(_Payload(marker), protocol=2))
    with pytest.raises(CheckpointError):
        load_checkpoint(path)
    assert not marker.exists()


def test_truncated_foreign_and_missing_files(tmp_path):
    save_checkpoint({"step": 1, "w": torch.zeros(1000)}, tmp_path / "c.pt")
    data = (tmp_path / "c.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="cut.pt: not a readable checkpoint"):
        load_checkpoint(tmp_path / "cut.pt")
    torch.save({"w": torch.zeros(1)}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a gannet checkpoint"):
        load_checkpoint(tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "none.pt")


def test_a_failed_save_leaves_the_old_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "last.pt"
    save_checkpoint({"step": 1}, path)

    def broken_save(obj, f):
        f.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(CheckpointError, match="last.pt: could not write the checkpoint: disk full; the previous"):
        save_checkpoint({"step": 2}, path)
    monkeypatch.undo()
    assert load_checkpoint(path, required=("step",))["step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]
