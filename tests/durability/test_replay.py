"""The power-loss replay (powerloss.py) and the WAL reader (wal_reader.py) on
hand-made journals and logs, so the end-to-end tests rest on a model whose
every rule has been seen to work."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from powerloss import DiskModel, Record, ReplayError, read_journal, simulate_power_loss
from wal_reader import BLOCK_SIZE, find_keys, logical_records


class Scene:
    """A directory with files and a journal written record by record."""

    def __init__(self, root: Path):
        self.dir = root / "db"
        self.dir.mkdir()
        self.journal = root / "journal"
        self.journal.write_bytes(b"")
        self.clock = 0

    def path(self, name: str) -> str:
        return str(self.dir / name)

    def write(self, name: str, data: bytes, mode: str = "ab"):
        with open(self.path(name), mode) as f:
            f.write(data)

    def record(self, kind: str, *args):
        self.clock += 1
        with open(self.journal, "a") as f:
            f.write("\t".join([str(self.clock), kind, *map(str, args)]) + "\n")

    def read(self, name: str) -> bytes | None:
        p = Path(self.path(name))
        return p.read_bytes() if p.exists() else None


@pytest.fixture
def scene(tmp_path):
    return Scene(tmp_path)


def test_a_file_keeps_exactly_its_synced_prefix(scene):
    scene.write("old.sst", b"durable before the session")
    scene.write("000004.log", b"abc")
    scene.record("create", scene.path("000004.log"), 0)
    scene.record("sync", scene.path("000004.log"), 3)
    scene.record("dirsync", str(scene.dir))
    scene.write("000004.log", b"defgh")
    scene.record("sync", scene.path("000004.log"), 6)
    scene.write("000004.log", b"-unsynced")
    report = simulate_power_loss(scene.journal)
    assert scene.read("000004.log") == b"abcdef"
    assert scene.read("old.sst") == b"durable before the session"
    assert report.bytes_dropped == 11


def test_a_new_file_needs_a_directory_sync(scene):
    for name in ("never-synced.log", "data-synced-only.log", "fully-synced.log"):
        scene.write(name, b"data")
        scene.record("create", scene.path(name), 0)
    scene.record("sync", scene.path("data-synced-only.log"), 4)
    scene.record("sync", scene.path("fully-synced.log"), 4)
    scene.record("dirsync", str(scene.dir))
    scene.record("create", scene.path("after-dirsync.log"), 0)
    scene.write("after-dirsync.log", b"x")
    scene.record("sync", scene.path("after-dirsync.log"), 1)
    scene.record("sync", scene.path("data-synced-only.log"), 4)
    simulate_power_loss(scene.journal)
    # The first dirsync covered every entry created before it.
    assert scene.read("never-synced.log") == b""
    assert scene.read("data-synced-only.log") == b"data"
    assert scene.read("fully-synced.log") == b"data"
    assert scene.read("after-dirsync.log") is None


def test_recreating_an_existing_file_loses_its_old_content_until_synced(scene):
    scene.write("OPTIONS", b"new content")
    scene.record("create", scene.path("OPTIONS"), 1)
    simulate_power_loss(scene.journal)
    assert scene.read("OPTIONS") == b""


def test_a_rename_without_directory_sync_is_undone(scene, tmp_path):
    backup = tmp_path / "journal.bak1"
    backup.write_bytes(b"MANIFEST-000001\n")
    scene.write("CURRENT", b"MANIFEST-000005\n")  # the rename already happened
    scene.record("create", scene.path("000005.dbtmp"), 0)
    scene.record("sync", scene.path("000005.dbtmp"), 16)
    scene.record("rename", scene.path("000005.dbtmp"), scene.path("CURRENT"), backup)
    report = simulate_power_loss(scene.journal)
    assert scene.read("CURRENT") == b"MANIFEST-000001\n"
    assert scene.read("000005.dbtmp") is None  # new, and its entry never synced
    assert report.renames_undone == 1


def test_a_rename_with_directory_sync_stays(scene, tmp_path):
    backup = tmp_path / "journal.bak1"
    backup.write_bytes(b"MANIFEST-000001\n")
    scene.write("CURRENT", b"MANIFEST-000005\n")
    scene.record("create", scene.path("000005.dbtmp"), 0)
    scene.record("sync", scene.path("000005.dbtmp"), 16)
    scene.record("rename", scene.path("000005.dbtmp"), scene.path("CURRENT"), backup)
    scene.record("dirsync", str(scene.dir))
    simulate_power_loss(scene.journal)
    assert scene.read("CURRENT") == b"MANIFEST-000005\n"


def test_the_info_log_is_left_for_diagnosis(scene):
    scene.write("LOG", b"rocksdb says")
    scene.record("create", scene.path("LOG"), 0)
    simulate_power_loss(scene.journal)
    assert scene.read("LOG") == b"rocksdb says"


def test_a_record_cut_short_by_the_kill_did_not_happen(scene):
    scene.write("000004.log", b"abcdef")
    scene.record("reopen", scene.path("000004.log"), 0)
    scene.record("sync", scene.path("000004.log"), 3)
    with open(scene.journal, "a") as f:
        f.write(f"99\tsync\t{scene.path('000004.log')}\t6")  # no newline
    assert len(read_journal(scene.journal)) == 2
    simulate_power_loss(scene.journal)
    assert scene.read("000004.log") == b"abc"


def test_operations_the_model_cannot_express_fail_the_replay(scene):
    scene.record("unsupported", "ReuseWritableFile", scene.path("000009.log"))
    with pytest.raises(ReplayError):
        simulate_power_loss(scene.journal)


def test_a_power_cut_in_the_past_removes_files_created_later(scene):
    scene.write("000004.log", b"abcdef")
    scene.record("create", scene.path("000004.log"), 0)
    scene.record("sync", scene.path("000004.log"), 3)
    scene.record("dirsync", str(scene.dir))
    mark = scene.journal.stat().st_size
    scene.record("sync", scene.path("000004.log"), 6)
    scene.write("000007.log", b"later")
    scene.record("create", scene.path("000007.log"), 0)
    simulate_power_loss(scene.journal, upto=mark)
    assert scene.read("000004.log") == b"abc"
    assert scene.read("000007.log") is None


def test_a_power_cut_in_the_past_refuses_files_deleted_since(scene):
    scene.write("000004.log", b"abc")
    scene.record("reopen", scene.path("000004.log"), 3)
    mark = scene.journal.stat().st_size
    scene.record("delete", scene.path("000004.log"))
    with pytest.raises(ReplayError):
        simulate_power_loss(scene.journal, upto=mark)


def test_surviving_length_follows_the_records():
    model = DiskModel()
    for record in read_journal_lines(["create\t/d/1.log\t0", "sync\t/d/1.log\t10"]):
        model.apply(record)
    assert model.surviving_length("/d/1.log") == 0  # entry not synced yet
    for record in read_journal_lines(["dirsync\t/d"]):
        model.apply(record)
    assert model.surviving_length("/d/1.log") == 10
    assert model.surviving_length("/d/untouched.sst") is None


def read_journal_lines(lines):
    return [Record(0, line.split("\t")[0], line.split("\t")[1:], 0) for line in lines]


def physical(kind: int, payload: bytes) -> bytes:
    return struct.pack("<IHB", 0, len(payload), kind) + payload


def test_wal_reader_joins_fragments_across_blocks(tmp_path):
    first = b"\x01" * 100 + b"key:first"
    # A record that starts near the end of block 0 and continues in block 1.
    spanning = b"key:spanning" + b"\x02" * (BLOCK_SIZE)
    data = bytearray(physical(1, first))
    room = BLOCK_SIZE - len(data) - 7
    data += physical(2, spanning[:room])
    rest = spanning[room:]
    data += physical(4, rest)
    data += physical(1, b"key:last")
    wal = tmp_path / "000004.log"
    wal.write_bytes(bytes(data))
    records = list(logical_records(bytes(data)))
    assert [payload for _, payload in records] == [first, spanning, b"key:last"]
    found = find_keys([wal], [b"key:first", b"key:spanning", b"key:last"])
    assert found[b"key:spanning"] == (str(wal), len(data) - len(physical(1, b"key:last")))
    # A torn last record is not a record.
    assert [p for _, p in logical_records(bytes(data[:-3]))] == [first, spanning]
