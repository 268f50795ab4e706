"""torch.hub entry points: gannet's committed generators (results/), loaded as :func:`gannet.load` does.

    G = torch.hub.load("path/to/gannet", "mnist_2014", source="local")  # a clone of this repository
    x = G.sample(16, seed=0)                                             # (16, 1, 28, 28) in [0, 1]

Each entry returns a :class:`gannet.sampling.Generator` (a ``torch.nn.Module`` in eval mode). The files
are read with ``torch.load(weights_only=True)``; gannet itself must be installed (``pip install -e .``
in the clone), or its ``src/`` folder beside this file is used.
"""

import sys as _sys
from pathlib import Path as _Path

dependencies = ["torch", "numpy", "yaml", "pydantic"]

_ROOT = _Path(__file__).resolve().parent
_RESULTS = _ROOT / "results"


def _load(name, generator="auto"):
    try:
        import gannet
    except ImportError:  # a bare clone: use its own source tree
        _sys.path.insert(0, str(_ROOT / "src"))
        import gannet
    return gannet.load(_RESULTS / name, generator=generator)


def mnist_2014(generator="auto"):
    """The paper's MNIST model (Table 1): the uniform average of G over steps 110,000-200,000 of the
    released configuration, Parzen 228.2 nats (docs/reproduction.md). (N, 100) uniform noise -> (N, 1, 28, 28)."""
    return _load("mnist-2014-g.pt", generator)


def dcgan_mnist(generator="auto"):
    """DCGAN on MNIST (docs/models.md): 28x28 digits in [0, 1]."""
    return _load("dcgan-mnist-g.pt", generator)


def dcgan_fashion_mnist(generator="auto"):
    """DCGAN on Fashion-MNIST (docs/models.md): 28x28 images in [0, 1]."""
    return _load("dcgan-fashion-mnist-g.pt", generator)


def wgan_gp_mnist(generator="auto"):
    """WGAN-GP on MNIST (docs/models.md): 28x28 digits in [0, 1]."""
    return _load("wgan-gp-mnist-g.pt", generator)


def infogan_mnist(generator="auto"):
    """InfoGAN on MNIST (docs/models.md): z with a 10-way categorical and continuous codes appended;
    ``G.sample`` draws them all."""
    return _load("infogan-mnist.pt", generator)
