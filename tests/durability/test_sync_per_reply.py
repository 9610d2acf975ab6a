"""When does a reply leave, relative to the fsync of its write?

One connection sends N INCRs one after another, each to a new key, to
tally-server-synctrack. After every reply the test notes how long the sync
journal was: that prefix is what the disk had been promised when the client
got its answer (a journal record is written before the operation returns to
RocksDB, so before any reply that depends on it). Reading the write-ahead log
afterwards says where each write ends in it. Then:

always:   every write was inside the synced part of the WAL, in a directory
          entry that was synced too, when its reply arrived; that needs at
          least N WAL fsyncs. Replaying a power cut at reply k on a copy of
          the data and opening it with the normal binary keeps exactly
          writes 1..k.
everysec: replies do not wait (some arrive before their fsync), about one
          WAL fsync per second happens, and one soon covers all writes.
none:     no WAL fsync happens during the writes; a power cut after the last
          reply keeps none of them.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from powerloss import durable_at_marks, read_journal, simulate_power_loss, sync_records
from wal_reader import find_keys
from workload import read_counters

N = 200
EVERYSEC_WAIT = 5.0  # bound on waiting for everysec's next fsync


def replay_on_copy(servers, tally_binary, source: Path, journal: Path, mark: int, keys, name):
    """Copies the data dir, replays a power cut at journal offset `mark` on the
    copy, opens it with the normal binary and returns the counters."""
    copy = source.parent / f"{name}-data"
    shutil.copytree(source, copy)
    prefix = str(source) + os.sep
    simulate_power_loss(journal, upto=mark,
                        remap=lambda p: str(copy) + os.sep + p[len(prefix):]
                        if p.startswith(prefix) else p)
    server = servers.create(tally_binary, name, data_dir=copy)
    server.start()
    try:
        return read_counters(server.port, keys)
    finally:
        assert server.stop() == 0


@pytest.mark.parametrize("mode", ["always", "everysec", "none"])
def test_reply_order_against_fsync(mode, servers, synctrack_binary, tally_binary, report,
                                   monkeypatch):
    server = servers.create(synctrack_binary, f"sync-{mode}", extra_args=["--durability", mode])
    journal = server.workdir / "journal"
    monkeypatch.setenv("TALLY_SYNC_JOURNAL", str(journal))
    server.start()
    client = server.redis()
    assert client.ping()

    keys = [f"reply:{i:06d}" for i in range(N)]
    start_mark = journal.stat().st_size
    marks = []
    started = time.monotonic()
    for key in keys:
        assert client.incr(key) == 1
        marks.append(journal.stat().st_size)
    elapsed = time.monotonic() - started
    client.close()

    wal_paths = sorted(server.data_dir.glob("*.log"))
    found = find_keys(wal_paths, [k.encode() for k in keys])
    assert len(found) == N, f"only {len(found)} of {N} writes found in {wal_paths}"
    where = [found[k.encode()] for k in keys]

    waited = None
    if mode == "everysec":
        deadline = time.monotonic() + EVERYSEC_WAIT
        while time.monotonic() < deadline:
            records = read_journal(journal)
            if records and all(durable_at_marks(records, [records[-1].end] * N, where)):
                waited = time.monotonic() - started - elapsed
                break
            time.sleep(0.05)
    server.kill()

    records = read_journal(journal)
    durable = durable_at_marks(records, marks, where)
    wal_syncs = [r for r in sync_records(records, ".log") if start_mark < r.end <= marks[-1]]
    early = durable.count(False)

    if mode == "always":
        kept = replay_on_copy(servers, tally_binary, server.data_dir, journal, marks[N // 2],
                              keys, "replay-half")
        report(f"sync-per-reply test (always): {N} sequential INCRs, {len(wal_syncs)} WAL fsyncs "
               f"during them, {early} replies sent before their fsync; a power cut at reply "
               f"{N // 2 + 1} keeps {sum(kept.values())} writes")
        assert early == 0, (f"{early} of {N} replies left before the fsync covering their write "
                            f"(first: write {durable.index(False) + 1})")
        assert len(wal_syncs) >= N
        assert kept == {k: 1 if i <= N // 2 else 0 for i, k in enumerate(keys)}
    elif mode == "everysec":
        report(f"sync-per-reply test (everysec): {N} sequential INCRs in {elapsed:.3f} s, "
               f"{len(wal_syncs)} WAL fsyncs during them, {early} replies sent before their "
               f"fsync; the next fsync covered all of them "
               + (f"{waited:.2f} s after the last reply" if waited is not None else "never"))
        assert early > 0, "everysec replies waited for fsync"
        assert len(wal_syncs) <= elapsed + 2, "everysec synced far more than once a second"
        assert waited is not None, f"no fsync covered the writes within {EVERYSEC_WAIT} s"
    else:
        kept = replay_on_copy(servers, tally_binary, server.data_dir, journal, marks[-1], keys,
                              "replay-end")
        report(f"sync-per-reply test (none): {N} sequential INCRs, {len(wal_syncs)} WAL fsyncs "
               f"during them, {early} replies sent before their fsync; a power cut after the "
               f"last reply keeps {sum(kept.values())} writes")
        assert len(wal_syncs) == 0
        assert early == N
        assert sum(kept.values()) == 0
