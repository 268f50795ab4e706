"""Independent, reproducible random streams derived from the one ``seed`` of a config."""

from __future__ import annotations

import zlib


def derive_seed(seed: int, stream: str) -> int:
    """A 63-bit seed for the named stream (init, noise, dropout, data, ...) of run seed ``seed``."""
    return (zlib.crc32(stream.encode()) * 1_000_003 + seed * 7_919 + 1) % (2**63 - 1)
