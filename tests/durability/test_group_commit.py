"""Group commit in `always` mode, seen through a slow disk:
tally-server-synctrack with every WAL fsync taking SLOW_FSYNC_MS longer.

- Writers on many connections share fsyncs: one fsync covers every write that
  arrived while the previous one ran, so far fewer fsyncs than writes happen,
  and still every reply leaves after the fsync covering its write.
- A read that shows a write waits for that write's fsync too: no client can
  see a value a power cut could take back.
"""

from __future__ import annotations

import threading
import time

from powerloss import durable_at_marks, read_journal, sync_records
from wal_reader import find_keys

SLOW_FSYNC_MS = 100
CONNECTIONS = 16
WRITES_PER_CONNECTION = 5


def start_slow_server(servers, synctrack_binary, monkeypatch, name, delay_ms):
    server = servers.create(synctrack_binary, name, extra_args=["--durability", "always"])
    journal = server.workdir / "journal"
    monkeypatch.setenv("TALLY_SYNC_JOURNAL", str(journal))
    monkeypatch.setenv("TALLY_WAL_SYNC_DELAY_MS", str(delay_ms))
    server.start()
    return server, journal


def test_concurrent_writers_share_fsyncs(servers, synctrack_binary, report, monkeypatch):
    server, journal = start_slow_server(servers, synctrack_binary, monkeypatch, "group-commit",
                                        SLOW_FSYNC_MS)
    start_mark = journal.stat().st_size
    replies: list[tuple[str, int]] = []  # (key, journal size when its reply arrived)
    errors: list[str] = []
    lock = threading.Lock()

    def writer(connection: int):
        client = server.redis()
        try:
            for i in range(WRITES_PER_CONNECTION):
                key = f"group:{connection:02d}:{i}"
                assert client.incr(key) == 1
                mark = journal.stat().st_size
                with lock:
                    replies.append((key, mark))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(repr(error))
        finally:
            client.close()

    started = time.monotonic()
    threads = [threading.Thread(target=writer, args=(c,)) for c in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    elapsed = time.monotonic() - started
    assert not any(t.is_alive() for t in threads), "writers did not finish within 60 s"
    assert not errors, errors[:5]
    server.kill()

    writes = CONNECTIONS * WRITES_PER_CONNECTION
    keys = [key for key, _ in replies]
    found = find_keys(sorted(server.data_dir.glob("*.log")), [k.encode() for k in keys])
    assert len(found) == writes
    records = read_journal(journal)
    durable = durable_at_marks(records, [mark for _, mark in replies],
                                    [found[k.encode()] for k in keys])
    last_mark = max(mark for _, mark in replies)
    fsyncs = len([r for r in sync_records(records, ".log") if start_mark < r.end <= last_mark])
    report(f"group commit (always, {SLOW_FSYNC_MS} ms per WAL fsync): {writes} INCRs from "
           f"{CONNECTIONS} connections in {elapsed:.2f} s shared {fsyncs} WAL fsyncs; "
           f"{durable.count(False)} replies sent before their fsync")
    assert all(durable), "a reply left before the fsync covering its write"
    # One fsync per write would take writes x SLOW_FSYNC_MS; batching needs
    # about WRITES_PER_CONNECTION + 1 rounds. A quarter leaves a wide margin.
    assert fsyncs <= writes // 4, f"{fsyncs} fsyncs for {writes} concurrent writes: no batching"


def test_a_read_waits_for_the_fsync_of_the_write_it_shows(servers, synctrack_binary, report,
                                                         monkeypatch):
    delay_ms = 400
    server, journal = start_slow_server(servers, synctrack_binary, monkeypatch, "read-waits",
                                        delay_ms)
    key = "group:read"
    writer = server.redis()
    reader = server.redis()
    assert reader.ping()
    write_reply: list[int] = []
    thread = threading.Thread(target=lambda: write_reply.append(writer.incr(key)))
    thread.start()

    # GET until it shows the write (bounded); the journal length at that
    # reply is what the disk had been promised when the reader saw the value.
    seen_mark = None
    polls = 0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        polls += 1
        value = reader.get(key)
        if value is not None:
            assert value == b"1"
            seen_mark = journal.stat().st_size
            break
        time.sleep(0.002)
    thread.join(timeout=10)
    assert write_reply == [1]
    assert seen_mark is not None, "the write never became visible"
    writer.close()
    reader.close()
    server.kill()

    found = find_keys(sorted(server.data_dir.glob("*.log")), [key.encode()])
    durable = durable_at_marks(read_journal(journal), [seen_mark], [found[key.encode()]])
    report(f"read durability (always, {delay_ms} ms per WAL fsync): GET showed the new value "
           f"after {polls} polls, {'after' if durable[0] else 'BEFORE'} its fsync")
    assert durable[0], "a GET showed a value before the write behind it was fsynced"


def test_the_delay_knob_is_validated(servers, synctrack_binary, monkeypatch):
    server = servers.create(synctrack_binary, "bad-delay")
    monkeypatch.setenv("TALLY_SYNC_JOURNAL", str(server.workdir / "journal"))
    monkeypatch.setenv("TALLY_WAL_SYNC_DELAY_MS", "soon")
    server.start(wait=False)
    assert server.wait_exit(timeout=10) == 1
    assert "TALLY_WAL_SYNC_DELAY_MS=soon is not a number" in server.log_text()

