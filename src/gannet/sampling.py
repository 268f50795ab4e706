"""Drawing samples from a trained generator: which checkpoint, which G, its noise, its samples.

Everything that reads a generator back goes through here: ``gannet sample``, ``eval``, ``figures``,
the experiments, the benchmarks and the Python API (:func:`gannet.load` returns a
:class:`Generator`). The noise of ``n`` samples with seed ``s`` is drawn on the CPU from one
``torch.Generator`` seeded with ``s``, whatever the device G runs on, so the same seed gives the same
samples on every machine and through every entry point.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch
from torch import nn

from gannet import distributed
from gannet.checkpoint import CheckpointError, load_checkpoint, with_generator
from gannet.config import Config
from gannet.errors import UsageError
from gannet.noise import latent_options, latent_size, sample_noise

SAMPLE_CHUNK = 10_000  # rows of noise per forward pass when sampling many


def checkpoint_path(source: str | os.PathLike, which: str | None = None) -> Path:
    """The checkpoint a reader uses: the file itself, or a run folder's ``best`` or ``last``
    checkpoint; ``None`` is the best when the run has one (validation ran), else the last."""
    from gannet.training.run_dir import RunDir

    source = Path(source)
    if which not in (None, "best", "last"):
        raise UsageError(f"checkpoint must be best or last, got {which!r}")
    if source.is_dir():
        run = RunDir(source)
        if which == "best" and not run.best.exists():
            raise UsageError(f"{source}: the run has no best checkpoint (no validation estimate was made)")
        if which == "last" or (which is None and not run.best.exists()):
            return run.last
        return run.best
    if not source.exists():
        raise UsageError(f"{source}: no such run folder or checkpoint")
    return source


def check_device(name: str) -> None:
    """A device to sample or evaluate on: cpu, or cuda / cuda:N where PyTorch sees that GPU."""
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError):
        raise UsageError(f"--device {name}: expected cpu, cuda or cuda:N") from None
    if device.type not in ("cpu", "cuda"):
        raise UsageError(f"--device {name}: expected cpu, cuda or cuda:N")
    if device.type == "cuda" and (not torch.cuda.is_available()
                                  or (device.index or 0) >= torch.cuda.device_count()):
        raise UsageError(f"--device {name}: PyTorch sees no such CUDA device (use --device cpu)")


def load_state(path: str | os.PathLike, generator: str = "auto") -> dict[str, Any]:
    """The checkpoint's state (loaded with ``weights_only``) with the chosen G in place
    (:func:`gannet.checkpoint.with_generator`: ``auto``, ``average`` or ``raw``)."""
    return with_generator(load_checkpoint(path), generator, str(path))


def state_and_config(checkpoint: str | os.PathLike, generator: str = "auto") -> tuple[dict[str, Any], Config]:
    """The checkpoint's state with the chosen G (:func:`load_state`), and its config."""
    state = load_state(checkpoint, generator)
    return state, Config.model_validate(state["config"])


def signed_images(state: dict[str, Any]) -> bool:
    """Whether a run's images are contrast-normalised (centred on 0) rather than in [0, 1]."""
    return state["config"]["data"].get("gcn") is not None


def iter_samples(state: dict[str, Any], n: int, seed: int = 0, device: str | torch.device = "cpu",
                 chunk: int | None = None) -> Iterator[np.ndarray]:
    """``n`` samples from a checkpoint's generator, in arrays of at most ``chunk`` rows, so that memory
    does not grow with ``n``. The noise of each chunk is drawn in turn from one generator seeded with
    ``seed``; up to ``chunk`` samples this is exactly :func:`generated_samples`."""
    from gannet.models import networks_from_state

    chunk = chunk or SAMPLE_CHUNK
    cfg, G, _ = networks_from_state(state)
    G.to(device)
    noise = torch.Generator().manual_seed(seed)
    for start in range(0, n, chunk):
        z = sample_noise(cfg.noise.prior, min(chunk, n - start), cfg.noise.dim, noise, **latent_options(cfg.noise))
        with torch.no_grad():
            yield G(z.to(device)).float().cpu().numpy()


def generated_samples(state: dict[str, Any], n: int, seed: int = 0,
                      device: str | torch.device = "cpu") -> np.ndarray:
    """Draw ``n`` samples (N, *data_shape) from the generator stored in a checkpoint state."""
    from gannet.models import networks_from_state

    cfg, G, _ = networks_from_state(state)
    G.to(device)
    z = sample_noise(cfg.noise.prior, n, cfg.noise.dim, torch.Generator().manual_seed(seed),
                     **latent_options(cfg.noise)).to(device)
    with torch.no_grad():  # shared across ranks under gannet eval with torchrun (gannet.distributed)
        out = distributed.map_rows(lambda part: torch.cat([G(c) for c in part.split(SAMPLE_CHUNK)]).float().cpu(), z)
    return out.numpy()


class Generator(nn.Module):
    """A trained G with what sampling from it needs: calling it on a noise batch ``z`` (N, ``latent_dim``)
    gives samples (N, *``data_shape``) in the data's range; :meth:`noise` draws z from the run's prior
    (InfoGAN's codes appended), :meth:`sample` draws both. It is built in eval mode: batch norm uses
    its running statistics, so a sample does not depend on the rest of its batch."""

    def __init__(self, net: nn.Module, config: Config, state: dict[str, Any]):
        super().__init__()
        self.net = net
        self.config = config
        self.data_shape = tuple(int(n) for n in state["data_shape"])
        self.data_kind: str = state["data_kind"]
        self.step = int(state["step"])
        self.latent_dim = latent_size(config.noise)
        self.signed = signed_images(state)  # contrast-normalised images are centred on 0, not in [0, 1]
        self.source = state.get("loaded_from")
        self.eval()

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Generator:
        """The G of a checkpoint state (with the G :func:`load_state` chose), on the CPU, in eval mode."""
        from gannet.models import networks_from_state

        cfg, G, _ = networks_from_state(state)
        return cls(G, cfg, state)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)

    @property
    def device(self) -> torch.device:
        return next(self.net.parameters()).device

    def noise(self, n: int, seed: int | None = None, device: str | torch.device | None = None) -> torch.Tensor:
        """``n`` latent vectors from the run's prior, drawn on the CPU from ``torch.Generator`` seeded with
        ``seed`` (``None``: a seed drawn from PyTorch's global generator, so ``torch.manual_seed``
        governs it), then moved to ``device`` (default: G's)."""
        if n < 0:
            raise ValueError(f"n must be a non-negative number of samples, got {n}")
        if seed is None:
            seed = int(torch.randint(0, 2**62, (1,)).item())
        noise = self.config.noise
        z = sample_noise(noise.prior, n, noise.dim, torch.Generator().manual_seed(seed), **latent_options(noise))
        return z.to(device if device is not None else self.device)

    def sample(self, n: int, seed: int | None = None, device: str | torch.device | None = None) -> torch.Tensor:
        """``n`` samples (n, *data_shape), float32, on ``device`` (default: G's; G is moved there). The same
        seed gives the same samples as ``gannet sample --seed`` and :func:`generated_samples`. G is
        used in eval mode and left in the mode it was in."""
        if device is not None:
            self.to(device)
        z = self.noise(n, seed)
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                return torch.cat([self(c).float() for c in z.split(SAMPLE_CHUNK)]) if n else \
                    torch.empty(0, *self.data_shape, device=z.device)
        finally:
            self.train(was_training)

    def extra_repr(self) -> str:
        noise = self.config.noise
        return (f"data_shape={self.data_shape}, latent_dim={self.latent_dim}, prior={noise.prior}, "
                f"step={self.step}")


def load_generator(source: str | os.PathLike, generator: str = "auto", checkpoint: str | None = None) -> Generator:
    """The :class:`Generator` of a run folder (its ``checkpoint``, see :func:`checkpoint_path`), a full
    checkpoint or a generator-only file, with the chosen G (``auto``, ``average``, ``raw``)."""
    path = checkpoint_path(source, checkpoint)
    state = load_state(path, generator)
    try:
        return Generator.from_state(state)
    except CheckpointError:
        raise
    except (KeyError, TypeError, ValueError) as err:
        raise CheckpointError(f"{path}: cannot build its generator ({type(err).__name__}: {err})") from None
