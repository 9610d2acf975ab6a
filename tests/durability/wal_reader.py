"""Reads RocksDB write-ahead log files just far enough to say where each
write batch ends, so a test can tell whether a synced prefix of the file
contains a given write.

Format (RocksDB's log_format.h): 32 KiB blocks; each physical record has a
header of crc32c (4 bytes), payload length (2, little endian) and type (1),
plus a 4-byte log number for the "recyclable" types 5-8. FULL records hold a
whole logical record; FIRST/MIDDLE/LAST fragments are joined. A block tail
shorter than a header is zero padding. A logical record is a WriteBatch:
sequence number (8), count (4), then the operations, whose keys appear as
plain bytes.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Iterator

BLOCK_SIZE = 32768
HEADER_SIZE = 7
RECYCLABLE_HEADER_SIZE = 11

FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4
RECYCLABLE_OFFSET = 4  # types 5-8 are the recyclable FULL/FIRST/MIDDLE/LAST


def logical_records(data: bytes) -> Iterator[tuple[int, bytes]]:
    """Yields (end offset, payload) for every complete logical record: the
    record is inside the file's first `end offset` bytes."""
    pos = 0
    pending: bytearray | None = None
    while pos + HEADER_SIZE <= len(data):
        left_in_block = BLOCK_SIZE - pos % BLOCK_SIZE
        if left_in_block < HEADER_SIZE:
            pos += left_in_block
            continue
        _crc, length, kind = struct.unpack_from("<IHB", data, pos)
        if kind == 0 and length == 0:
            break  # zeroes: preallocated space past the end of what was written
        recyclable = FULL + RECYCLABLE_OFFSET <= kind <= LAST + RECYCLABLE_OFFSET
        header = RECYCLABLE_HEADER_SIZE if recyclable else HEADER_SIZE
        end = pos + header + length
        if end > len(data):
            break  # torn record at the end
        fragment = data[pos + header:end]
        pos = end
        base = kind - RECYCLABLE_OFFSET if recyclable else kind
        if base == FULL:
            pending = None
            yield end, bytes(fragment)
        elif base == FIRST:
            pending = bytearray(fragment)
        elif base == MIDDLE and pending is not None:
            pending += fragment
        elif base == LAST and pending is not None:
            pending += fragment
            yield end, bytes(pending)
            pending = None
        # other types are metadata records (compression type, timestamp sizes)


def find_keys(wal_paths: list[Path], keys: list[bytes]) -> dict[bytes, tuple[str, int]]:
    """For each key that occurs in a write batch of one of the WAL files:
    (file path, end offset of that batch). Keys must not be substrings of one
    another or of anything else the batches hold."""
    wanted = set(keys)
    found: dict[bytes, tuple[str, int]] = {}
    for path in wal_paths:
        data = Path(path).read_bytes()
        for end, payload in logical_records(data):
            for key in wanted:
                if key in payload:
                    found.setdefault(key, (str(path), end))
    return found
