"""The two update schemes do exactly what the paper (Algorithm 1) and the authors' code do."""

import copy

import torch

from gannet.data.batches import ShuffledBatches
from gannet.losses import (
    LOSSES,
    discriminator_loss,
    generator_loss_minimax,
    generator_loss_nonsaturating,
)
from gannet.models.mlp import MLPDiscriminator, MLPGenerator
from gannet.noise import sample_noise
from gannet.training.optim import PylearnMomentum
from gannet.training.steps import GAN, alternating_step, simultaneous_step


def _gan(seed=0):
    torch.manual_seed(seed)
    G = MLPGenerator(3, [8], (4,), output="linear")
    D = MLPDiscriminator(4, [6], activation="maxout", pieces=2, keep_input=0.8, keep_hidden=0.5)
    D.dropout_generator = torch.Generator().manual_seed(11)
    gan = GAN(G, D, PylearnMomentum(G.parameters(), 0.1, 0.5), PylearnMomentum(D.parameters(), 0.1, 0.5),
              "normal", 3, torch.Generator().manual_seed(7))
    data = torch.randn(40, 4)
    return gan, ShuffledBatches(data, 5, seed=1)


def _twin(gan):
    """Copies of G and D whose dropout masks replay the originals' (same generator seed)."""
    G0, D0 = copy.deepcopy(gan.generator), copy.deepcopy(gan.discriminator)
    D0.dropout_generator = torch.Generator().manual_seed(11)
    return G0, D0


def _sgd(params, grads, lr=0.1):  # first momentum step from inc = 0: theta -= lr * grad
    with torch.no_grad():
        for p, g in zip(params, grads):
            p -= lr * g


def _noise(gen, n):
    return sample_noise("normal", n, 3, gen)


def test_simultaneous_step_uses_one_minibatch_one_z_and_old_parameters():
    gan, batches = _gan()
    G0, D0 = _twin(gan)
    twin = ShuffledBatches(batches.data, 5, seed=1)
    noise = torch.Generator().manual_seed(7)

    simultaneous_step(gan, batches, 1, LOSSES["nonsaturating"])

    real, z = twin.next(), _noise(noise, 5)
    logits = D0(torch.cat([real, G0(z)]))  # one dropout draw for the real and fake halves
    real_logits, fake_logits = logits[:5], logits[5:]
    d_loss = discriminator_loss(real_logits, fake_logits)
    g_loss = generator_loss_nonsaturating(fake_logits)  # the same masks as D's fake term
    d_grads = torch.autograd.grad(d_loss, list(D0.parameters()), retain_graph=True)
    g_grads = torch.autograd.grad(g_loss, list(G0.parameters()))
    _sgd(D0.parameters(), d_grads)
    _sgd(G0.parameters(), g_grads)
    for a, b in zip(list(gan.generator.parameters()) + list(gan.discriminator.parameters()),
                    list(G0.parameters()) + list(D0.parameters())):
        assert torch.allclose(a, b, atol=1e-6)


def test_alternating_step_is_algorithm_1():
    for k in (1, 3):
        gan, batches = _gan()
        G0, D0 = _twin(gan)
        twin = ShuffledBatches(batches.data, 5, seed=1)
        noise = torch.Generator().manual_seed(7)
        optD = PylearnMomentum(D0.parameters(), 0.1, 0.5)

        alternating_step(gan, batches, k, LOSSES["minimax"])

        for _ in range(k):  # k discriminator steps, each on a fresh minibatch and fresh z
            real, z = twin.next(), _noise(noise, 5)
            logits = D0(torch.cat([real, G0(z).detach()]))
            d_loss = discriminator_loss(logits[:5], logits[5:])
            optD.zero_grad()
            d_loss.backward()
            optD.step()
        z = _noise(noise, 5)  # fresh z and fresh masks, through the updated D
        g_grads = torch.autograd.grad(generator_loss_minimax(D0(G0(z))), list(G0.parameters()))
        _sgd(G0.parameters(), g_grads)
        for a, b in zip(list(gan.generator.parameters()) + list(gan.discriminator.parameters()),
                        list(G0.parameters()) + list(D0.parameters())):
            assert torch.allclose(a, b, atol=1e-6), k
        assert all(p.requires_grad for p in gan.discriminator.parameters())


def test_step_statistics():
    gan, batches = _gan()
    stats = alternating_step(gan, batches, 1, LOSSES["nonsaturating"])
    assert set(stats) == {"d_loss", "g_loss", "value", "d_real", "d_fake"}
    assert stats["value"].item() < 0 and 0 < stats["d_real"].item() < 1
    assert abs(stats["value"].item() + 2 * stats["d_loss"].item()) < 1e-6


def test_the_replay_is_sensitive_to_the_masks():
    """The tests above would notice a G loss computed with other dropout masks than D's."""
    gan, batches = _gan()
    G0, D0 = _twin(gan)
    D0.dropout_generator.manual_seed(12)
    twin = ShuffledBatches(batches.data, 5, seed=1)
    simultaneous_step(gan, batches, 1, LOSSES["nonsaturating"])
    logits = D0(torch.cat([twin.next(), G0(_noise(torch.Generator().manual_seed(7), 5))]))
    g_grads = torch.autograd.grad(generator_loss_nonsaturating(logits[5:]), list(G0.parameters()))
    _sgd(G0.parameters(), g_grads)
    assert not all(torch.allclose(a, b, atol=1e-6) for a, b in zip(gan.generator.parameters(), G0.parameters()))


def test_one_pass_over_real_and_fake_equals_the_plain_two_pass_bce_formulation():
    """The fast path (one D pass over the concatenated batch, softplus on logits) gives the same losses
    and gradients as the plain formulation (two D passes, sigmoid, BCELoss), dropout fixed (off)."""
    torch.manual_seed(0)
    G = MLPGenerator(3, [8], (4,), output="sigmoid")
    D = MLPDiscriminator(4, [6], activation="maxout", pieces=2, keep_input=1.0, keep_hidden=1.0)
    real, z = torch.rand(5, 4), torch.randn(5, 3)

    fake = G(z)
    real_logits, fake_logits = D(torch.cat([real, fake])).split(5)
    fast_d = discriminator_loss(real_logits, fake_logits)  # gradients taken for D's weights only
    fast_g = generator_loss_nonsaturating(fake_logits)
    fast_grads = torch.autograd.grad(fast_d, list(D.parameters()), retain_graph=True)
    fast_g_grads = torch.autograd.grad(fast_g, list(G.parameters()))

    bce = torch.nn.BCELoss()
    d_real, d_fake = torch.sigmoid(D(real)).squeeze(-1), torch.sigmoid(D(G(z).detach())).squeeze(-1)
    plain_d = 0.5 * (bce(d_real, torch.ones(5)) + bce(d_fake, torch.zeros(5)))
    plain_g = bce(torch.sigmoid(D(G(z))).squeeze(-1), torch.ones(5))
    plain_grads = torch.autograd.grad(plain_d, list(D.parameters()))
    plain_g_grads = torch.autograd.grad(plain_g, list(G.parameters()))

    assert torch.allclose(fast_d, plain_d, atol=1e-6) and torch.allclose(fast_g, plain_g, atol=1e-6)
    for a, b in zip(fast_grads + fast_g_grads, plain_grads + plain_g_grads):
        assert torch.allclose(a, b, atol=1e-6)


class _Spy:
    """A D regulariser or G term that records what the step hands it."""

    def __init__(self):
        self.seen = []

    def penalty(self, gan, real, fake, latent):
        with torch.no_grad():
            self.seen.append((fake.requires_grad, torch.allclose(fake, gan.generator(latent))))
        return real.new_zeros(())

    def after_step(self, discriminator):
        pass


def test_terms_get_the_steps_own_fake_batch_and_the_latent_that_made_it():
    for step in (alternating_step, simultaneous_step):
        gan, batches = _gan()
        gan.regularisers, gan.generator_terms = (d_spy := _Spy(),), (g_spy := _Spy(),)
        step(gan, batches, 1, LOSSES["nonsaturating"])
        # D's side: the batch is G(latent), detached; G's side: the batch carries G's graph
        assert d_spy.seen == [(False, True)] and g_spy.seen == [(True, True)], step.__name__
