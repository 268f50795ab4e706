"""A trained generator as a standalone file that plain PyTorch (TorchScript) or ONNX runtimes run.

Both map a noise batch z (N, latent_dim) to samples (N, *data_shape), for any N: the networks shape
their outputs with ``-1`` / ``shape[0]``, so the trace keeps the batch dimension free. The noise is
the caller's to draw: the file records the prior (``noise.prior``, ``noise.dim``, InfoGAN's codes, the
scale) in its metadata (``gannet.json``: a TorchScript extra file, ONNX metadata properties), and
:meth:`gannet.sampling.Generator.noise` draws exactly what gannet would.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import torch

from gannet.errors import UsageError
from gannet.io import atomic_path
from gannet.sampling import Generator

FORMATS = ("checkpoint", "torchscript", "onnx")
METADATA = "gannet.json"  # the TorchScript extra file / ONNX metadata key that describes the noise


def metadata(G: Generator) -> dict:
    """What a user of the exported file needs to draw its input: the prior and the shapes."""
    noise = G.config.noise
    return {"input": "z, float32 (N, latent_dim)", "latent_dim": G.latent_dim, "data_shape": list(G.data_shape),
            "data_kind": G.data_kind, "signed": G.signed, "step": G.step,
            "noise": {"prior": noise.prior, "dim": noise.dim, "categorical": noise.categorical,
                      "continuous": noise.continuous, "scale": noise.scale},
            "prior_help": "uniform: U(-sqrt 3, sqrt 3) per dimension; normal: N(0, 1); times scale; then a one-hot "
                          "of `categorical` classes and `continuous` U(-1, 1) codes appended"}


def _example(G: Generator, n: int) -> torch.Tensor:
    return G.noise(n, seed=0, device="cpu")


def to_torchscript(G: Generator, out: Path) -> Path:
    """Trace G (eval mode, CPU) and save it with :func:`torch.jit.save`; ``torch.jit.load(out)`` runs it
    without gannet. The trace is checked against G on another batch size before it is written."""
    G = G.cpu().eval()
    with torch.no_grad(), warnings.catch_warnings():
        # the shape tests the trace fixes as constants are on the image sides, never the batch; check_inputs
        # verifies the trace on another batch size
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.simplefilter("ignore", DeprecationWarning)  # PyTorch 2.10+ points to torch.export; the file stays
        traced = torch.jit.trace(G.net, _example(G, 4), check_inputs=[(_example(G, 7),)])
    with atomic_path(out) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(traced, str(tmp), _extra_files={METADATA: json.dumps(metadata(G))})
    return out


def to_onnx(G: Generator, out: Path) -> Path:
    """Export G to ONNX (opset 17) with a dynamic batch dimension, through the TorchScript-based
    exporter (``dynamo=False``): it needs the ``onnx`` package, nothing else."""
    try:
        import onnx
    except ImportError:
        raise UsageError("--format onnx needs the onnx package (pip install 'gannet[onnx]')") from None
    G = G.cpu().eval()
    with atomic_path(out) as tmp, torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.simplefilter("ignore", DeprecationWarning)  # the TorchScript-based exporter: no onnxscript needed
        torch.onnx.export(G.net, (_example(G, 4),), str(tmp), input_names=["z"], output_names=["samples"],
                          dynamic_axes={"z": {0: "batch"}, "samples": {0: "batch"}}, opset_version=17,
                          dynamo=False)
        model = onnx.load(str(tmp))
        entry = model.metadata_props.add()
        entry.key, entry.value = METADATA, json.dumps(metadata(G))
        onnx.save(model, str(tmp))
    return out
