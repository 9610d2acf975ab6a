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

import threading
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


def test_failed_fsync_holds_applied_writes_and_answers_other_commands(servers, synctrack_binary,
                                                                      tally_binary, report,
                                                                      monkeypatch):
    """A write that was applied (it is in RocksDB's memtable and WAL file) but
    whose fsync failed gets no error: an error says "not applied", and a
    client that retries on it would count twice. Its reply waits for the disk
    recovery to make it durable (flushing the memtables), or, if the disk
    stays broken past the hold (WalSyncer::kFailedSyncHold, 10 s), the
    connection closes without a reply, as in a crash. Meanwhile replies that
    show no stored data (PING, TIME, INFO) go out as usual."""
    server = servers.create(synctrack_binary, "failed-fsync", extra_args=["--durability", "always"])
    fault = server.workdir / "FAULT"
    monkeypatch.setenv("TALLY_FAULT_FILE", str(fault))
    monkeypatch.setenv("TALLY_SYNC_JOURNAL", str(server.workdir / "journal"))
    # Each WAL fsync first sleeps this long: the window in which the disk
    # breaks after the write was appended and before its fsync.
    monkeypatch.setenv("TALLY_WAL_SYNC_DELAY_MS", "400")
    server.start()
    setup = server.redis()
    assert setup.incr("held") == 1

    def incr_during_fault(heal_after_s):
        """INCRs `held` on its own connection while the fsync fails; returns
        the reply, or the exception, and how long it took."""
        outcome = {}

        def run():
            client = server.redis(socket_timeout=20)
            started = time.monotonic()
            try:
                outcome["reply"] = client.incr("held")
            except (redis.ResponseError, redis.ConnectionError) as error:
                outcome["reply"] = error
            outcome["seconds"] = time.monotonic() - started
            client.close()

        thread = threading.Thread(target=run)
        thread.start()
        time.sleep(0.15)  # appended; its fsync is sleeping
        fault.touch()
        time.sleep(0.6)   # the fsync failed
        other = server.redis(socket_timeout=2)
        started = time.monotonic()
        assert other.ping() is True
        assert len(other.time()) == 2
        assert "redis_version" in other.info("server")
        quick = time.monotonic() - started
        other.close()
        assert quick < 1.0, f"PING/TIME/INFO took {quick:.2f} s during the failure"
        time.sleep(heal_after_s)
        fault.unlink()
        thread.join(30)
        assert not thread.is_alive()
        return outcome

    # The disk recovers within the hold: the INCR is answered, with its value.
    first = incr_during_fault(heal_after_s=0.5)
    assert first["reply"] == 2, first
    # It stays broken past the hold: the connection closes without a reply.
    second = incr_during_fault(heal_after_s=11.0)
    assert isinstance(second["reply"], redis.ConnectionError), second
    assert not isinstance(second["reply"], redis.ResponseError), second

    # The unanswered INCR was applied, and is durable after the recovery.
    deadline = time.monotonic() + RECOVERY_LIMIT_S
    while True:
        try:
            value = setup.incr("held")
            break
        except (redis.ResponseError, redis.ConnectionError):
            assert time.monotonic() < deadline, "writes still refused after the disk recovered"
            time.sleep(0.2)
    assert value == 4
    setup.close()
    server.kill()
    check = servers.create(tally_binary, "failed-fsync-check", data_dir=server.data_dir)
    check.start()
    reader = check.redis()
    assert int(reader.get("held")) == 4
    reader.close()
    assert check.stop() == 0
    report(f"failed fsync (always): applied INCR answered after the recovery "
           f"({first['seconds']:.1f} s), closed without a reply when the disk stayed broken "
           f"({second['seconds']:.1f} s); PING/TIME/INFO answered during the failure; "
           f"the applied writes survived SIGKILL + restart")
