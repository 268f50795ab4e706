"""gannet's Python API: :func:`load`, :func:`train`, :func:`evaluate`, :func:`recipes` and :class:`Run`.

They are the functions the ``gannet`` command runs (``gannet train`` is :func:`train`, ``gannet eval``
is :func:`evaluate`), with the same checks and the same exceptions: a bad config raises
:class:`~gannet.config.ConfigError`, missing data :class:`~gannet.data.DataError`, an unusable file
:class:`~gannet.checkpoint.CheckpointError`, a refused request :class:`~gannet.errors.UsageError`
(all ValueErrors, with the message the CLI prints after ``error:``). Nothing here exits the process.
See docs/api.md.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from gannet.config import Config, load_config, overrides_from_dict, read_config_source, recipe_names
from gannet.sampling import Generator, load_generator

PathLike = str | os.PathLike


class Run:
    """A run folder: its config, its metrics, its generator."""

    def __init__(self, folder: PathLike):
        from gannet.training.run_dir import RunDir

        self.folder = Path(folder)
        self._dir = RunDir(self.folder)

    @property
    def config(self) -> Config:
        """The run's config (its ``config.yaml``)."""
        return load_config(str(self._dir.config))

    def metrics(self) -> list[dict[str, Any]]:
        """The records of ``metrics.jsonl``, in order: losses and D's outputs every ``train.log_every``
        steps, the validation monitor's estimates, the quality monitor's metrics."""
        from gannet.training.run_dir import read_metrics

        return read_metrics(self._dir.metrics) if self._dir.metrics.exists() else []

    def load(self, generator: str = "auto", checkpoint: str = "best") -> Generator:
        """The run's generator: :func:`load` of the folder."""
        return load(self.folder, generator=generator, checkpoint=checkpoint)

    def __fspath__(self) -> str:
        return os.fspath(self.folder)

    def __repr__(self) -> str:
        return f"Run({str(self.folder)!r})"


def load(path_or_run: PathLike | Run, generator: str = "auto", checkpoint: str = "best") -> Generator:
    """The generator of a run folder, a full checkpoint or a generator-only file, as a
    :class:`torch.nn.Module` in eval mode on the CPU: ``G(z)`` maps a noise batch to samples,
    ``G.sample(n, seed)`` draws its own noise, ``G.noise(n, seed)`` draws the noise alone, ``G.config``
    is the run's config.

    ``generator``: ``auto`` (the moving average of G's weights when the run kept one, else G),
    ``average`` or ``raw``. ``checkpoint`` (run folders only): ``best``, the checkpoint the validation
    monitor chose when the run has one, else the last (what ``gannet sample`` reads by default); or
    ``last``. The file is read with ``torch.load(weights_only=True)``: nothing in it is unpickled."""
    if checkpoint not in ("best", "last"):
        from gannet.errors import UsageError

        raise UsageError(f"checkpoint must be best or last, got {checkpoint!r}")
    return load_generator(os.fspath(path_or_run), generator, None if checkpoint == "best" else checkpoint)


def train(config: str | PathLike | dict[str, Any], out: PathLike | None = None,
          overrides: dict[str, Any] | None = None, resume: bool = False, overwrite: bool = False,
          quiet: bool = False) -> Run:
    """Train a run and return it; what ``gannet train CONFIG KEY=VALUE ... --out OUT`` does.

    ``config``: a recipe name (:func:`recipes`), a YAML file, or a dict of the same keys.
    ``overrides``: dotted keys to values, used as given (``{"train.steps": 20, "data.root": "/x"}``).
    ``out``: the run folder (default ``runs/<config>-<date>-<time>``); ``resume`` continues the run
    there (only :data:`~gannet.training.launch.RESUMABLE_KEYS` may change), ``overwrite`` replaces it.
    Progress lines go to stderr unless ``quiet``. Raises TrainingInterrupted when stopped by Ctrl-C
    (after a checkpoint: resume it) and TrainingDiverged when the losses became NaN."""
    from gannet.training import launch

    folder = launch.train(config, out, overrides_from_dict(overrides), resume=resume, overwrite=overwrite,
                          log=(lambda line: None) if quiet else launch._stderr)
    return Run(folder)


def evaluate(path_or_run: PathLike | Run, metric: str = "parzen", checkpoint: str | None = None,
             write: bool = True, **protocol: Any) -> dict[str, Any]:
    """Score a generator; return the record ``gannet eval`` writes (and write it to the run folder as
    ``eval_<metric>_<checkpoint>.json`` unless ``write=False``). For ``metric="all"``, a dict of
    records by metric name, one per metric that applies.

    ``protocol``: ``samples``, ``valid``, ``split``, ``seed``, ``data_root``, ``device``, ``generator``,
    ``inception_weights``, as the command's options (:class:`gannet.scoring.Protocol`).
    ``checkpoint``: ``best`` or ``last`` of a run folder (default: best when the run has one)."""
    from gannet import scoring
    from gannet.sampling import checkpoint_path

    options = scoring.Protocol.of(protocol)
    options.check()
    path = checkpoint_path(os.fspath(path_or_run), checkpoint)
    records = scoring.evaluate(path, scoring.resolve(metric, path, options), options, write=write)
    return records if metric == "all" else records[metric]


def recipes() -> dict[str, str]:
    """The bundled recipes: {name: description}."""
    return {name: read_config_source(name)[0].get("description", "") for name in recipe_names()}


__all__ = ["Generator", "Run", "evaluate", "load", "recipes", "train"]
