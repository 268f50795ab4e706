"""gannet: generative adversarial networks, from Goodfellow et al. (2014) onwards.

The Python API (docs/api.md)::

    import gannet

    run = gannet.train("toy-ring", out="runs/ring", overrides={"train.steps": 2000})
    G = gannet.load(run)                  # a torch.nn.Module, in eval mode
    x = G.sample(64, seed=0)              # (64, *data shape), in the data's range
    gannet.evaluate(run, metric="modes")  # the record `gannet eval` writes
    gannet.recipes()                      # {name: description}

The names are exported lazily (module ``__getattr__``): ``import gannet`` reads no PyTorch, so the
command line, ``python -m gannet`` and tools that only want ``__version__`` start fast; the first use
of ``gannet.load`` and the others imports :mod:`gannet.api` (and PyTorch) once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_API = ("load", "train", "evaluate", "recipes", "Run", "Generator")

if TYPE_CHECKING:  # for type checkers and IDEs; at run time the names come from __getattr__
    from gannet.api import Generator, Run, evaluate, load, recipes, train


def __getattr__(name: str) -> Any:
    if name in _API:
        from gannet import api

        value = getattr(api, name)
        globals()[name] = value  # later lookups skip __getattr__
        return value
    raise AttributeError(f"module 'gannet' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])


__all__ = ["__version__", *_API]
