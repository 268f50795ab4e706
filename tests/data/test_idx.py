import gzip
import struct

import numpy as np
import pytest

from gannet.data.errors import DataError
from gannet.data.idx import parse_idx, read_idx, write_idx


def test_round_trip_gzip_and_raw(tmp_path):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    for compress, name in ((True, "a.gz"), (False, "a")):
        write_idx(tmp_path / name, array, compress=compress)
        assert np.array_equal(read_idx(tmp_path / name, ndim=3), array)


def _header(ndim_sizes, type_code=0x08):
    return struct.pack(">HBB", 0, type_code, len(ndim_sizes)) + struct.pack(f">{len(ndim_sizes)}I", *ndim_sizes)


def test_bad_magic_is_named():
    with pytest.raises(DataError, match="bad IDX magic"):
        parse_idx(b"\x12\x34\x08\x01" + b"\x00" * 8, "f.idx")
    with pytest.raises(DataError, match="too short"):
        parse_idx(b"\x00\x00", "f.idx")


def test_size_mismatch_says_truncated_or_trailing():
    content = _header([10]) + bytes(5)
    with pytest.raises(DataError, match=r"f\.idx: header says shape \(10,\).*truncated"):
        parse_idx(content, "f.idx")
    with pytest.raises(DataError, match="trailing data"):
        parse_idx(_header([2]) + bytes(3), "f.idx")


def test_truncated_gzip_names_the_file(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(_header([100]) + bytes(100))[:-20])
    with pytest.raises(DataError, match=f"{path}: corrupt or truncated gzip"):
        read_idx(path)


def test_wrong_dimensions_and_missing_file(tmp_path):
    write_idx(tmp_path / "l.gz", np.zeros(5, np.uint8))
    with pytest.raises(DataError, match="expected a 3-dimensional"):
        read_idx(tmp_path / "l.gz", ndim=3)
    with pytest.raises(DataError, match="file not found"):
        read_idx(tmp_path / "nope.gz")
