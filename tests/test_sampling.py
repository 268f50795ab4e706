"""gannet.sampling: which checkpoint a reader uses, the noise and samples of a stored G."""

import numpy as np
import pytest
import torch

import gannet
from gannet.checkpoint import load_checkpoint
from gannet.errors import UsageError
from gannet.sampling import Generator, checkpoint_path, generated_samples, iter_samples, load_state
from gannet.training.run_dir import RunDir

TINY = {"train.steps": 20, "train.progress": False, "train.tensorboard": False}


@pytest.fixture(scope="module")
def validated(tmp_path_factory):
    """A toy run whose monitor validated, so it has a best checkpoint beside its last."""
    return gannet.train("toy-ring", out=tmp_path_factory.mktemp("sampling") / "ring",
                        overrides={**TINY, "monitor.every": 10}, quiet=True)


def test_checkpoint_path_prefers_best_then_last(validated, tmp_path):
    run = RunDir(validated.folder)
    assert run.best.exists()
    assert checkpoint_path(validated.folder) == run.best == checkpoint_path(validated.folder, "best")
    assert checkpoint_path(validated.folder, "last") == run.last
    assert checkpoint_path(run.last) == run.last  # a file is itself
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="the run has no best checkpoint"):
        checkpoint_path(tmp_path / "empty", "best")
    with pytest.raises(UsageError, match="no such run folder or checkpoint"):
        checkpoint_path(tmp_path / "missing.pt")


def test_chunks_draw_the_same_samples_as_one_batch(validated, monkeypatch):
    state = load_state(RunDir(validated.folder).last)
    whole = generated_samples(state, 25, seed=5)
    parts = list(iter_samples(state, 25, seed=5, chunk=10))
    assert [len(p) for p in parts] == [10, 10, 5]
    # the chunks continue one noise stream, so up to a chunk they are the one-batch samples; to within the
    # last bits only, since a matrix product's float sums depend on its batch size on several threads
    np.testing.assert_allclose(parts[0], whole[:10], rtol=0, atol=1e-5)
    G = Generator.from_state(state)
    monkeypatch.setattr("gannet.sampling.SAMPLE_CHUNK", 7)  # sample() splits the forward passes alone
    np.testing.assert_allclose(G.sample(25, seed=5).numpy(), whole, rtol=0, atol=1e-5)


def test_the_generator_module_describes_its_samples(validated):
    G = Generator.from_state(load_checkpoint(RunDir(validated.folder).last))
    assert G.data_shape == (2,) and G.data_kind == "points" and G.latent_dim == 16 and G.step == 20
    assert not G.signed and "prior=uniform" in repr(G)
    assert G.sample(0).shape == (0, 2)
    with pytest.raises(ValueError, match="non-negative"):
        G.noise(-1)
    G.train()
    G.sample(4, seed=0)
    assert G.training  # sample() draws in eval mode and leaves the module's own mode alone
    assert torch.equal(G.eval().sample(4, seed=0), gannet.load(validated, checkpoint="last").sample(4, seed=0))
