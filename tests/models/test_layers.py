import torch

from gannet.models.layers import dropout, init_uniform_, maxout


def test_maxout_pools_consecutive_groups():
    x = torch.tensor([[1.0, 5.0, 2.0, 0.0, -1.0, 3.0, 3.5, -2.0, 0.0, 1.0]])
    assert maxout(x, 5).tolist() == [[5.0, 3.5]]
    assert maxout(x, 2).tolist() == [[5.0, 2.0, 3.0, 3.5, 1.0]]


def test_inverted_dropout_keeps_the_mean_and_drops_the_right_fraction():
    x = torch.ones(400, 500)
    out = dropout(x, 0.8, torch.Generator().manual_seed(0))
    kept = (out != 0).float().mean().item()
    assert abs(kept - 0.8) < 0.005
    assert torch.allclose(out[out != 0], torch.tensor(1.25))
    assert abs(out.mean().item() - 1.0) < 0.01
    assert torch.equal(dropout(x, 1.0, None), x)


def test_dropout_is_reproducible_from_its_generator():
    x = torch.randn(10, 10)
    a = dropout(x, 0.5, torch.Generator().manual_seed(1))
    b = dropout(x, 0.5, torch.Generator().manual_seed(1))
    assert torch.equal(a, b)


def test_uniform_init_range_and_zero_bias():
    net = torch.nn.Sequential(torch.nn.Linear(50, 40), torch.nn.ReLU(), torch.nn.Linear(40, 3))
    init_uniform_(net, 0.05, torch.Generator().manual_seed(0))
    w = net[0].weight
    assert w.abs().max() <= 0.05 and w.abs().max() > 0.045 and abs(w.mean().item()) < 0.005
    assert net[0].bias.abs().sum() == 0 and net[2].bias.abs().sum() == 0


def test_dropout_masks_have_the_right_rate_and_independent_elements():
    from gannet.models.layers import dropout_mask

    gen = torch.Generator().manual_seed(3)
    for keep in (0.5, 0.8, 0.3):
        mask = dropout_mask(torch.Size([1000, 1000]), keep, gen, torch.device("cpu")).float()
        assert abs(mask.mean().item() - keep) < 0.002
        flat = mask.flatten() - mask.mean()
        for lag in (1, 2, 3, 4, 5):  # neighbours share a 64-bit draw (lags 1-3) or not (4+)
            corr = (flat[:-lag] * flat[lag:]).mean() / flat.var()
            assert abs(corr.item()) < 0.005, (keep, lag, corr)


def test_running_statistics_kept_normalises_by_the_batch_and_leaves_the_running_statistics():
    from torch import nn

    from gannet.models.layers import running_statistics_kept

    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 8, bias=False), nn.BatchNorm1d(8, momentum=0.05), nn.ReLU(), nn.Linear(8, 2))
    net.train()
    net(torch.randn(64, 2))  # running statistics of prior-like inputs
    before = {k: v.clone() for k, v in net.state_dict().items()}
    far = 100 * torch.randn(64, 2)  # inputs far from those
    with running_statistics_kept(net):
        out = net(far)
        out.square().sum().backward()
    for k, v in net.state_dict().items():
        assert torch.equal(v, before[k]), k
    assert net[1].momentum == 0.05 and net[0].weight.grad is not None
    # the output is the batch-normalised one, as in training: not the one the running statistics give
    net.eval()
    assert not torch.allclose(out, net(far), atol=1e-3)
    net.train()
    assert torch.allclose(out, net(far), atol=1e-5)
    assert not torch.equal(net[1].running_var, before["1.running_var"])  # outside the context they move again
