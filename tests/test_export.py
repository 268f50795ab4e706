"""gannet export --format torchscript / onnx: G alone, runnable without gannet, matching gannet.load."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import gannet
from gannet.cli import main

RESULTS = Path(__file__).resolve().parent.parent / "results"
TINY = {"train.steps": 20, "train.progress": False, "train.tensorboard": False, "monitor.enabled": False}


@pytest.fixture(scope="module")
def ring(tmp_path_factory):
    return gannet.train("toy-ring", out=tmp_path_factory.mktemp("export") / "ring", overrides=TINY, quiet=True)


@pytest.mark.parametrize("source", ["ring", "infogan-mnist.pt", "dcgan-mnist-g.pt", "mnist-2014-g.pt"])
def test_torchscript_export_matches_the_generator_on_any_batch_size(source, ring, tmp_path, capsys):
    path = ring.folder if source == "ring" else RESULTS / source  # MLP, DCGAN with InfoGAN codes, DCGAN, maxout MLP
    out = tmp_path / "G.pt"
    assert main(["export", str(path), "--format", "torchscript", "--out", str(out)]) == 0
    assert "as torchscript" in capsys.readouterr().err
    G = gannet.load(path)
    extra = {"gannet.json": ""}
    module = torch.jit.load(str(out), _extra_files=extra)
    meta = json.loads(extra["gannet.json"])
    assert meta["latent_dim"] == G.latent_dim and meta["data_shape"] == list(G.data_shape)
    assert meta["noise"]["prior"] == G.config.noise.prior
    for n in (1, 13):  # neither is the batch size it was traced with
        z = G.noise(n, seed=n)
        with torch.no_grad():
            assert torch.allclose(module(z), G(z), atol=1e-6)


def test_the_torchscript_file_runs_without_gannet(ring, tmp_path):
    out = tmp_path / "G.pt"
    assert main(["export", str(ring.folder), "--format", "torchscript", "--out", str(out)]) == 0
    z = gannet.load(ring).noise(5, seed=0)
    torch.save(z, tmp_path / "z.pt")
    code = ("import sys, torch; sys.modules['gannet'] = None; "  # importing gannet would fail
            f"m = torch.jit.load({str(out)!r}); z = torch.load({str(tmp_path / 'z.pt')!r}); "
            f"torch.save(m(z), {str(tmp_path / 'x.pt')!r})")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path)
    assert torch.allclose(torch.load(tmp_path / "x.pt"), gannet.load(ring)(z), atol=1e-6)


def test_export_format_errors(ring, tmp_path, capsys):
    assert main(["export", str(ring.folder), "--format", "torchscript", "--out", str(tmp_path / "G.onnx")]) == 2
    assert "must end in .pt" in capsys.readouterr().err
    assert main(["export", str(ring.folder), "--format", "onnx", "--out", str(tmp_path / "G.pt")]) == 2
    assert "must end in .onnx" in capsys.readouterr().err
    assert main(["export", str(ring.folder), "--format", "torchscript", "--half", "--out", str(tmp_path / "G.pt")]) == 2
    assert "--half are for --format checkpoint" in capsys.readouterr().err
    assert not (tmp_path / "G.pt").exists()


@pytest.mark.parametrize("source", ["ring", "dcgan-mnist-g.pt", "infogan-mnist.pt"])
def test_onnx_export_runs_in_onnxruntime_on_another_batch_size(source, ring, tmp_path):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    path = ring.folder if source == "ring" else RESULTS / source
    out = tmp_path / "G.onnx"
    assert main(["export", str(path), "--format", "onnx", "--out", str(out)]) == 0
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    G = gannet.load(path)
    meta = json.loads(session.get_modelmeta().custom_metadata_map["gannet.json"])
    assert meta["latent_dim"] == G.latent_dim and meta["noise"]["prior"] == G.config.noise.prior
    z = G.noise(9, seed=1)  # traced with 4 rows
    (samples,) = session.run(None, {"z": z.numpy()})
    with torch.no_grad():
        assert samples.shape == (9, *G.data_shape)
        assert torch.allclose(torch.from_numpy(samples), G(z), atol=1e-5)
