"""``gannet data download``: fetch the standard IDX files from public mirrors, verified and atomic.

Each file is fetched as ``<name>.gz`` from the first mirror that answers, decompressed in memory and
checked against the SHA-256 of the official decompressed content; only then is the ``.gz`` written
(temporary file, fsync, rename). A file already present and valid is not fetched again.
"""

from __future__ import annotations

import gzip
import hashlib
import urllib.error
import urllib.request
import zlib
from pathlib import Path

from gannet.io import atomic_write_bytes

MIRRORS = {
    "mnist": [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ],
    "fashion-mnist": [
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ],
}

# SHA-256 of the decompressed files (their MD5s equal the publishers' official values).
CHECKSUMS = {
    "mnist": {
        "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
}


class DownloadError(RuntimeError):
    """No mirror delivered a valid file; the message lists each attempt."""


def _verified_content(gz_bytes: bytes, stem: str, expected_sha256: str) -> None:
    try:
        content = gzip.decompress(gz_bytes)
    except (EOFError, OSError, zlib.error) as err:
        raise ValueError(f"not a valid gzip file ({err})") from None
    digest = hashlib.sha256(content).hexdigest()
    if digest != expected_sha256:
        raise ValueError(f"checksum mismatch for {stem}: sha256 {digest[:16]}..., expected {expected_sha256[:16]}...")


def _is_valid(path: Path, stem: str, expected: str) -> bool:
    try:
        _verified_content(path.read_bytes(), stem, expected)
        return True
    except (OSError, ValueError):
        return False


def _fetch(url: str, timeout: float) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "gannet"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read()


def download(name: str, root: str | Path, mirrors: list[str] | None = None, timeout: float = 5.0,
             log=print) -> list[Path]:
    """Download dataset ``name`` (mnist or fashion-mnist) into ``root``; return the file paths."""
    if name not in CHECKSUMS:
        raise DownloadError(f"unknown dataset '{name}' (downloadable: {', '.join(CHECKSUMS)})")
    root = Path(root).expanduser()
    mirrors = [m if m.endswith("/") else m + "/" for m in (mirrors or MIRRORS[name])]
    paths = []
    for stem, expected in CHECKSUMS[name].items():
        path = root / f"{stem}.gz"
        paths.append(path)
        if path.exists() and _is_valid(path, stem, expected):
            log(f"{path}: present, checksum ok")
            continue
        failures = []
        for mirror in mirrors:
            url = f"{mirror}{stem}.gz"
            try:
                data = _fetch(url, timeout)
                _verified_content(data, stem, expected)
            except (urllib.error.URLError, TimeoutError, ConnectionError, ValueError, OSError) as err:
                reason = getattr(err, "reason", None) or err
                failures.append(f"  {url}: {reason}")
                continue
            atomic_write_bytes(path, data)
            log(f"{path}: downloaded from {mirror}, checksum ok")
            break
        else:
            raise DownloadError(
                f"could not download {stem}.gz for {name} from any mirror:\n" + "\n".join(failures) +
                f"\nNo file was written for it. If this machine is offline, copy the four standard IDX .gz files "
                f"({', '.join(s + '.gz' for s in CHECKSUMS[name])}) into {root} by hand, or pass --mirror URL."
            )
    return paths
