import hashlib

import numpy as np
import pytest
import torch

from gannet.features.inception import (
    STANDARD_FILE,
    FIDInceptionV3,
    InceptionWeightsError,
    inception_features,
    load_inception,
)


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory):
    torch.manual_seed(0)
    net = FIDInceptionV3().eval()
    state = {k: v for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
    path = tmp_path_factory.mktemp("w") / "inception.pth"
    torch.save(state, path)
    return path, hashlib.sha256(path.read_bytes()).hexdigest(), net


def test_the_network_has_the_fid_layout_and_size():
    net = FIDInceptionV3()
    assert sum(p.numel() for p in net.parameters()) == pytest.approx(23.9e6, rel=0.01)  # the 95.6 MB file
    assert "Mixed_7c.branch3x3dbl_3b.bn.running_var" in net.state_dict()


def test_loads_a_verified_file_and_extracts_2048_features(weights_file):
    path, digest, reference = weights_file
    net = load_inception(path, sha256=digest)
    images = np.random.default_rng(0).random((2, 1, 28, 28), dtype=np.float32)  # grey, small: repeated, resized
    features = inception_features(net, images)
    assert features.shape == (2, 2048) and np.isfinite(features).all()
    with torch.no_grad():
        assert np.allclose(features, reference(torch.from_numpy(images)).numpy(), atol=1e-5)


def test_refuses_a_missing_or_different_file_with_what_to_do(weights_file, tmp_path):
    path, _, _ = weights_file
    with pytest.raises(InceptionWeightsError, match=f"{STANDARD_FILE}.*does not download"):
        load_inception(tmp_path / "none.pth")
    with pytest.raises(InceptionWeightsError, match="SHA-256 is .*expected 6726825d"):
        load_inception(path)  # a valid state dict, but not the standard file
    other = tmp_path / "other.pth"
    torch.save({"x": torch.zeros(1)}, other)
    with pytest.raises(InceptionWeightsError, match="not the FID Inception-v3 layout"):
        load_inception(other, sha256=hashlib.sha256(other.read_bytes()).hexdigest())
