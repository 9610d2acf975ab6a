"""A really full disk (issue 14, bug 8): the data directory on a small tmpfs
that fills up. The injected faults of test_disk_errors.py fail every call of
RocksDB's file system at once; a real file system fills in the middle of a
WAL append, which takes another path through RocksDB (a write error that its
WAL writer remembers, after which a WAL sync must not be attempted).

The bar is Redis's on the same tmpfs: the process stays up, reads are served,
writes are refused with -MISCONF (and not applied), nothing acknowledged is
lost, and writes are accepted again once space is freed, without a restart.

Needs root (mount -t tmpfs); skipped with the reason otherwise.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import redis

TMPFS_MB = 96
# What the filler leaves for RocksDB: room for ~100 big SETs. The filler is
# written before the server starts, so that RocksDB's preallocation of its WAL
# (about 70 MB, with fallocate) cannot take the space first.
LEFT_FREE_MB = 30
BIG_VALUE = b"v" * (256 * 1024)
COUNTERS = ["full:a", "full:b", "full:c"]
MAX_WRITES = 4000        # bound on the fill loop (it needs ~100 at 24 MB free)
FILL_LIMIT_S = 60.0
RECOVERY_LIMIT_S = 20.0


@pytest.fixture
def tmpfs():
    """A fresh 96 MB tmpfs, unmounted at the end whatever happens."""
    mount_point = Path(tempfile.mkdtemp(prefix="tally-full-disk-"))
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_MB}m", "tmpfs",
                              str(mount_point)], capture_output=True, text=True)
    if mounted.returncode != 0:
        mount_point.rmdir()
        pytest.skip(f"cannot mount a tmpfs (needs root): {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        # Lazy, in case a server that outlived the test still holds files.
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)
        mount_point.rmdir()


def fill(path: Path, leave_free: int):
    """Writes a filler file so that about `leave_free` bytes stay free."""
    stat = os.statvfs(path)
    size = stat.f_bavail * stat.f_frsize - leave_free
    chunk = b"\0" * (1 << 20)
    with open(path / "filler", "wb") as out:
        for _ in range(max(0, size) // len(chunk)):
            out.write(chunk)


class Ledger:
    """What the server acknowledged. A connection closed without a reply is
    an unknown outcome (as in a crash): the write may or may not be applied."""

    def __init__(self):
        self.acked = {key: 0 for key in COUNTERS}
        self.unknown = {key: 0 for key in COUNTERS}
        self.big_keys: list[str] = []
        self.errors: list[str] = []

    def incr(self, client, key) -> bool:
        try:
            value = client.incr(key)
        except redis.ResponseError as error:
            self.errors.append(str(error))
            return False
        except redis.ConnectionError:
            self.unknown[key] += 1
            return False
        self.acked[key] += 1
        low, high = self.acked[key], self.acked[key] + self.unknown[key]
        assert low <= value <= high, f"{key}: INCR replied {value}, expected {low}..{high}"
        self.acked[key] = value
        self.unknown[key] = high - value
        return True

    def set_big(self, client, key) -> bool:
        try:
            assert client.set(key, BIG_VALUE) is True
        except redis.ResponseError as error:
            self.errors.append(str(error))
            return False
        except redis.ConnectionError:
            return False
        self.big_keys.append(key)
        return True

    def check_counters(self, client):
        for key in COUNTERS:
            value = int(client.get(key) or 0)
            assert self.acked[key] <= value <= self.acked[key] + self.unknown[key], \
                f"{key} = {value}, acknowledged {self.acked[key]} (+{self.unknown[key]} unknown)"


@pytest.mark.parametrize("mode", ["always", "everysec", "none"])
def test_full_disk_refuses_writes_keeps_reads_and_recovers(servers, tally_binary, tmpfs, report,
                                                         mode):
    data_dir = tmpfs / "data"
    fill(tmpfs, LEFT_FREE_MB << 20)
    server = servers.create(tally_binary, f"full-disk-{mode}", data_dir=data_dir,
                            extra_args=["--durability", mode])
    server.start()
    try:
        client = server.redis()
        ledger = Ledger()
        for i in range(30):
            assert ledger.incr(client, COUNTERS[i % len(COUNTERS)]), ledger.errors[-1:]

        # Fill the rest with INCRs and 256 KB SETs until writes are refused.
        started = time.monotonic()
        writes = 0
        while not ledger.errors:
            assert writes < MAX_WRITES and time.monotonic() - started < FILL_LIMIT_S, \
                f"{writes} writes and the {TMPFS_MB} MB disk is not full"
            assert server.running, f"the server exited:\n{server.log_tail()}"
            ledger.incr(client, COUNTERS[writes % len(COUNTERS)])
            ledger.set_big(client, f"big:{writes}")
            writes += 1
        full_after = writes

        # Give a background flush or WAL sync time to meet the full disk too.
        time.sleep(1.5)
        assert server.running, f"the server exited on the full disk:\n{server.log_tail()}"
        client = server.redis()
        assert client.ping() is True
        ledger.check_counters(client)
        for key in ledger.big_keys[-5:]:
            assert client.get(key) == BIG_VALUE
        assert client.dbsize() >= len(COUNTERS) + len(ledger.big_keys)
        for key in COUNTERS:
            before = int(client.get(key) or 0)
            with pytest.raises(redis.ResponseError, match="^MISCONF "):
                client.incr(key)
            assert int(client.get(key) or 0) == before, "a refused INCR was applied"

        # Space comes back: writes are accepted again within seconds.
        (tmpfs / "filler").unlink()
        freed = time.monotonic()
        while not ledger.incr(client, COUNTERS[0]):
            assert time.monotonic() - freed < RECOVERY_LIMIT_S, \
                f"writes still refused {RECOVERY_LIMIT_S} s after space was freed: " \
                f"{ledger.errors[-1:]}"
            assert server.running, f"the server exited:\n{server.log_tail()}"
            time.sleep(0.2)
        recovered_s = time.monotonic() - freed
        for i in range(30):
            assert ledger.incr(client, COUNTERS[i % len(COUNTERS)]), ledger.errors[-1:]
        ledger.check_counters(client)
        final = {key: int(client.get(key)) for key in COUNTERS}
        client.close()

        # Nothing acknowledged is lost across a restart either.
        assert server.stop() == 0
        server.start()
        reader = server.redis()
        assert {key: int(reader.get(key)) for key in COUNTERS} == final
        assert reader.get(ledger.big_keys[-1]) == BIG_VALUE
        reader.close()
        assert server.stop() == 0
        assert "Assertion" not in server.log_text()
        report(f"full disk ({mode}, {TMPFS_MB} MB tmpfs): writes refused after {full_after} "
               f"INCR+256KB SET rounds, reads served, -MISCONF for writes, accepted again "
               f"{recovered_s:.1f} s after space was freed; counters intact after a restart")
    finally:
        server.kill()
