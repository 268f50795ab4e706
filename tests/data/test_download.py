"""`gannet data download` against a local HTTP server on 127.0.0.1 (no internet needed)."""

import functools
import gzip
import hashlib
import shutil
import socket
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from gannet.data import download as dl
from gannet.data.idx import read_idx
from gannet.data.mnist import load_mnist_splits
from tests.conftest import real_data_root, requires_real_mnist, write_fake_mnist


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def serve():
    servers = []

    def start(folder):
        server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def fake_checksums(tmp_path, monkeypatch):
    """A small MNIST-shaped dataset on the 'mirror', and its checksums in place of the real ones."""
    folder = write_fake_mnist(tmp_path / "mirror")
    sums = {p.name[:-3]: hashlib.sha256(gzip.decompress(p.read_bytes())).hexdigest() for p in folder.glob("*.gz")}
    monkeypatch.setitem(dl.CHECKSUMS, "mnist", sums)
    return folder


def _closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/"


def test_download_verifies_and_writes(tmp_path, serve, fake_checksums):
    url = serve(fake_checksums)
    root = tmp_path / "data"
    paths = dl.download("mnist", root, mirrors=[_closed_port(), url], log=lambda m: None)  # first mirror down
    assert sorted(p.name for p in paths) == sorted(p.name for p in fake_checksums.glob("*.gz"))
    assert len(load_mnist_splits(root, "mnist", 10)["train"]) == 290
    messages = []
    dl.download("mnist", root, mirrors=[url], log=messages.append)  # present: verified, not fetched again
    assert all("present, checksum ok" in m for m in messages)


def test_corrupt_file_on_the_mirror_writes_nothing(tmp_path, serve, fake_checksums):
    bad = tmp_path / "bad-mirror"
    shutil.copytree(fake_checksums, bad)
    (bad / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(b"\x00\x00\x08\x03" + bytes(100)))
    root = tmp_path / "data"
    with pytest.raises(dl.DownloadError, match="checksum mismatch for train-images-idx3-ubyte"):
        dl.download("mnist", root, mirrors=[serve(bad)], log=lambda m: None)
    assert not (root / "train-images-idx3-ubyte.gz").exists()
    assert not list(root.glob("*.tmp")) and not list(root.glob(".*"))


def test_missing_file_falls_back_to_the_next_mirror(tmp_path, serve, fake_checksums):
    partial = tmp_path / "partial"
    partial.mkdir()
    shutil.copy(fake_checksums / "t10k-labels-idx1-ubyte.gz", partial)
    paths = dl.download("mnist", tmp_path / "d", mirrors=[serve(partial), serve(fake_checksums)], log=lambda m: None)
    assert all(p.exists() for p in paths)


def test_offline_fails_within_seconds_with_a_clear_message(tmp_path):
    start = time.monotonic()
    with pytest.raises(dl.DownloadError) as err:
        dl.download("fashion-mnist", tmp_path, mirrors=[_closed_port(), _closed_port()], log=lambda m: None)
    assert time.monotonic() - start < 5
    message = str(err.value)
    assert "could not download train-images-idx3-ubyte.gz" in message and "offline" in message
    assert "Connection refused" in message or "refused" in message.lower()
    assert not any(tmp_path.iterdir())


def test_unresponsive_mirror_times_out(tmp_path):
    with socket.socket() as listener:  # accepts connections, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
        start = time.monotonic()
        with pytest.raises(dl.DownloadError, match="timed out"):
            dl.download("mnist", tmp_path, mirrors=[url], timeout=0.5, log=lambda m: None)
        assert time.monotonic() - start < 5


@requires_real_mnist
def test_real_files_pass_the_official_checksums(tmp_path, serve):
    root = tmp_path / "mnist"
    dl.download("mnist", root, mirrors=[serve(real_data_root() / "mnist")], log=lambda m: None)
    assert read_idx(root / "t10k-labels-idx1-ubyte.gz").shape == (10_000,)
