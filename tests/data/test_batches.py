import torch

from gannet.data.batches import ShuffledBatches


def test_each_epoch_is_a_permutation_without_replacement():
    data = torch.arange(10).float()[:, None]
    batches = ShuffledBatches(data, batch_size=3, seed=0)
    assert batches.batches_per_epoch == 3
    epoch1 = torch.cat([batches.next() for _ in range(3)]).squeeze(1)
    assert batches.epoch == 1 and len(set(epoch1.tolist())) == 9
    epoch2 = torch.cat([batches.next() for _ in range(3)]).squeeze(1)
    assert batches.epoch == 2 and not torch.equal(epoch1, epoch2)


def test_state_round_trip_continues_the_same_stream():
    data = torch.randn(50, 2)
    a = ShuffledBatches(data, 7, seed=3)
    for _ in range(9):
        a.next()
    b = ShuffledBatches(data, 7, seed=99)
    b.load_state_dict(a.state_dict())
    for _ in range(20):
        assert torch.equal(a.next(), b.next())
    assert a.epoch == b.epoch
