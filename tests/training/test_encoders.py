"""gannet.training.encoders: the encoder a config trains with G, and the term it enters."""

import torch

from gannet.config import load_config
from gannet.training import encoders
from gannet.training.reconstruction import Encoder, Reconstruction
from gannet.training.vae import GaussianEncoder, NegativeELBO


def test_the_config_picks_the_encoding_and_its_term():
    assert encoders.from_config(load_config("toy-ring")) is None
    assert encoders.build(None, (2,), 0) is None
    vae = encoders.from_config(load_config("vae-mnist"))
    net = encoders.build(vae, (1, 28, 28), 5)
    assert isinstance(net, GaussianEncoder) and isinstance(vae.term(net, None), NegativeELBO)
    cfg = load_config("toy-ring", ["loss.reconstruction=0.5"])
    rec = encoders.from_config(cfg)
    net = encoders.build(rec, (2,), 5)
    term = rec.term(net, None)
    assert isinstance(net, Encoder) and isinstance(term, Reconstruction)


def test_the_encoder_is_seeded_and_leaves_the_global_stream_alone():
    rec = encoders.from_config(load_config("toy-ring", ["loss.reconstruction=0.5"]))
    torch.manual_seed(3)
    before = torch.get_rng_state()
    a, b, c = (encoders.build(rec, (2,), s) for s in (5, 5, 6))
    assert torch.equal(torch.get_rng_state(), before)
    first = lambda net: next(net.parameters())  # noqa: E731
    assert torch.equal(first(a), first(b)) and not torch.equal(first(a), first(c))
