"""hubconf.py: torch.hub.load(<clone>, <entry>, source="local") gives the committed generators."""

from pathlib import Path

import pytest
import torch

import gannet

ROOT = Path(__file__).resolve().parent.parent
ENTRIES = {"mnist_2014": "mnist-2014-g.pt", "dcgan_mnist": "dcgan-mnist-g.pt",
           "dcgan_fashion_mnist": "dcgan-fashion-mnist-g.pt", "wgan_gp_mnist": "wgan-gp-mnist-g.pt",
           "infogan_mnist": "infogan-mnist.pt"}


def test_every_committed_generator_has_an_entry():
    assert set(_entries()) == set(ENTRIES)
    assert {p.name for p in (ROOT / "results").glob("*.pt")} == set(ENTRIES.values())


def _entries():
    import importlib.util

    spec = importlib.util.spec_from_file_location("hubconf", ROOT / "hubconf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.dependencies[0] == "torch"
    return [n for n in dir(module) if callable(getattr(module, n)) and not n.startswith("_")]


@pytest.mark.parametrize("entry", sorted(ENTRIES))
def test_hub_load_is_gannet_load_of_the_committed_file(entry):
    G = torch.hub.load(str(ROOT), entry, source="local")
    expected = gannet.load(ROOT / "results" / ENTRIES[entry])
    assert isinstance(G, torch.nn.Module) and not G.training
    assert torch.equal(G.sample(4, seed=0), expected.sample(4, seed=0))
    assert G.sample(4, seed=0).shape == (4, 1, 28, 28)
