"""Disk errors (docs/operations.md): while the data directory cannot be
written, writes get a -MISCONF error naming the problem, reads keep working,
and once the disk is writable again the server takes writes again on its own,
without a restart and without losing or inventing any write.

tally-server-synctrack with TALLY_FAULT_FILE: while that file exists, every
append, sync, truncate, rename and link of RocksDB's files fails with "No
space left on device" (tests/durability/sync_tracking_fs.h), as on a full
disk. One client INCRs sequentially, so every INCR is either acknowledged or
refused: the final counters must equal the acknowledged INCRs exactly.
"""

from __future__ import annotations

import time

import redis

KEYS = ["disk:a", "disk:b", "disk:c"]
BEFORE = 60          # INCRs before the fault
DURING = 20          # INCRs attempted while the disk fails
AFTER = 60           # INCRs after recovery
RECOVERY_LIMIT_S = 20.0


def incr(client, key, acked, errors):
    """One INCR; counts it as acknowledged or keeps the error text."""
    try:
        value = client.incr(key)
    except redis.ResponseError as error:
        errors.append(str(error))
        return False
    acked[key] += 1
    assert value == acked[key], f"{key}: INCR replied {value}, expected {acked[key]}"
    return True


def test_disk_full_refuses_writes_keeps_reads_and_recovers(servers, synctrack_binary, tally_binary,
                                                          report, monkeypatch):
    server = servers.create(synctrack_binary, "disk-errors", extra_args=["--durability", "always"])
    fault = server.workdir / "FAULT"
    monkeypatch.setenv("TALLY_FAULT_FILE", str(fault))
    monkeypatch.delenv("TALLY_SYNC_JOURNAL", raising=False)
    server.start()
    client = server.redis()
    acked = {key: 0 for key in KEYS}
    errors: list[str] = []

    for i in range(BEFORE):
        assert incr(client, KEYS[i % len(KEYS)], acked, errors), errors[-1:]

    recoveries = []
    # Round 1 fails a WAL append with writes in the memtables; round 2 right
    # after SAVE, whose flush left them empty (RocksDB 7.8 then opens no new
    # WAL on recovery unless Tally's sentinel keeps a memtable non-empty).
    for round_number in (1, 2):
        if round_number == 2:
            assert client.save() is True
        errors.clear()
        fault.touch()  # the disk fills up
        refused = 0
        for i in range(DURING):
            if not incr(client, KEYS[i % len(KEYS)], acked, errors):
                refused += 1
        assert refused == DURING, f"{DURING - refused} INCRs succeeded while every write failed"
        for text in errors:
            assert text.startswith("MISCONF Errors writing to the data directory: "), text
            assert "No space left on device" in text, text
            assert "Writes are refused until the disk is writable again" in text, text
        # Reads answer the last durable values; other commands work; so does
        # a connection opened during the failure.
        for key in KEYS:
            assert client.get(key) == str(acked[key]).encode()
        assert client.mget(KEYS) == [str(acked[k]).encode() for k in KEYS]
        assert client.ping() is True
        assert client.dbsize() == len(KEYS)
        fresh = server.redis()
        assert fresh.ping() is True
        assert fresh.get(KEYS[0]) == str(acked[KEYS[0]]).encode()
        fresh.close()
        assert server.running

        # The disk is writable again: writes resume without a restart.
        fault.unlink()
        cleared = time.monotonic()
        while True:
            if incr(client, KEYS[0], acked, errors):
                break
            assert time.monotonic() - cleared < RECOVERY_LIMIT_S, \
                f"writes still refused {RECOVERY_LIMIT_S} s after the disk recovered: {errors[-1]}"
            time.sleep(0.2)
        recoveries.append(time.monotonic() - cleared)
        for i in range(AFTER):
            assert incr(client, KEYS[i % len(KEYS)], acked, errors), errors[-1:]

    final = {key: int(client.get(key)) for key in KEYS}
    client.close()
    assert server.running, "the server exited"
    assert final == acked

    # Everything acknowledged is on disk: after SIGKILL the normal server
    # reads exactly the same counters.
    server.kill()
    check = servers.create(tally_binary, "disk-errors-check", data_dir=server.data_dir)
    check.start()
    reader = check.redis()
    after_restart = {key: int(reader.get(key)) for key in KEYS}
    reader.close()
    assert check.stop() == 0
    total = sum(acked.values())
    report(f"disk errors (always): 2 rounds of injected ENOSPC, {total} INCRs acknowledged, "
           f"{DURING} refused with -MISCONF per round, writes accepted again "
           f"{' / '.join(f'{r:.1f}' for r in recoveries)} s after the disk recovered, no restart; "
           f"counters = acknowledged: {final == acked}, after SIGKILL + restart: "
           f"{after_restart == acked}")
    assert after_restart == acked
