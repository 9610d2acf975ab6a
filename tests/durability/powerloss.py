"""Simulated power loss: replays a sync journal written by
tally-server-synctrack (sync_tracking_fs.h) over the data directory of a
server that was killed with SIGKILL, throwing away everything a disk would
not have been promised to keep.

SIGKILL leaves the page cache intact: every byte the server write()s is still
there afterwards, synced or not. A power cut keeps only what was fsynced. The
replay models the disk as follows:

* File data: each file written in the session keeps the prefix covered by its
  last successful Sync/Fsync; the rest is cut off. RocksDB writes files
  append-only, so that prefix is exactly what was synced.
* Directory entries: a file created in the session is on disk only once its
  directory was fsynced after the creation; otherwise it is deleted, even if
  its data was synced.
* Renames: not on disk until their directory is fsynced; otherwise undone
  (the file moves back, and the file it replaced comes back from the copy the
  journal kept).
* Deletions are taken as done: a file RocksDB deleted may come back after a
  real power cut, but RocksDB only deletes files it no longer needs.
* RocksDB's info log (LOG, LOG.old.*) is never read back by RocksDB and is
  left alone so a failing run can still be diagnosed.

Anything the journal reports that this model cannot express ("unsupported"
records) makes the replay fail instead of guessing.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import unquote


class ReplayError(Exception):
    """The journal describes something the model cannot replay faithfully."""


@dataclass
class Record:
    time_ns: int
    kind: str
    args: list[str]
    end: int  # byte offset in the journal just after this record


def read_journal(path: Path | str, limit: int | None = None) -> list[Record]:
    """The complete records in the first `limit` bytes of the journal (all of
    it when None). A final line without its newline was cut short by the
    kill and is ignored: its operation may have happened, but nothing that
    depended on it can have (records precede their consequences)."""
    data = Path(path).read_bytes()
    if limit is not None:
        data = data[:limit]
    records = []
    offset = 0
    while True:
        newline = data.find(b"\n", offset)
        if newline < 0:
            break
        fields = data[offset:newline].decode("utf-8", "surrogateescape").split("\t")
        if len(fields) < 2:
            raise ReplayError(f"malformed journal record at byte {offset}: {fields!r}")
        records.append(Record(int(fields[0]), fields[1], [unquote(f) for f in fields[2:]],
                              newline + 1))
        offset = newline + 1
    return records


@dataclass
class FileState:
    # Bytes known to be on disk; None: the session never wrote to the file,
    # whatever it holds was there (and durable) before.
    synced: int | None
    # Created in this session and its directory not fsynced since.
    new_entry: bool


@dataclass
class PendingRename:
    src: str
    dst: str
    backup: str | None
    replaced: FileState | None  # the state of the file the rename replaced


def is_info_log(path: str) -> bool:
    name = os.path.basename(path)
    return name == "LOG" or name.startswith("LOG.old")


class DiskModel:
    """What a disk would hold, per the journal records applied so far."""

    def __init__(self):
        self.files: dict[str, FileState] = {}
        self.pending: list[PendingRename] = []

    def apply(self, record: Record):
        kind, args = record.kind, record.args
        if kind == "create":
            path, existed = args[0], args[1] == "1"
            before = self.files.get(path)
            new_entry = not existed or (before is not None and before.new_entry)
            self.files[path] = FileState(synced=0, new_entry=new_entry)
        elif kind == "reopen":
            self.files.setdefault(args[0], FileState(synced=int(args[1]), new_entry=False))
        elif kind == "sync":
            state = self.files.setdefault(args[0], FileState(synced=0, new_entry=False))
            state.synced = max(state.synced or 0, int(args[1]))
        elif kind == "truncate":
            path, size = args[0], int(args[1])
            state = self.files.setdefault(path, FileState(synced=size, new_entry=False))
            state.synced = size if state.synced is None else min(state.synced, size)
        elif kind == "dirsync":
            directory = args[0]
            for path, state in self.files.items():
                if os.path.dirname(path) == directory:
                    state.new_entry = False
            self.pending = [r for r in self.pending if os.path.dirname(r.dst) != directory]
        elif kind == "rename":
            src, dst, backup = args[0], args[1], None if args[2] == "-" else args[2]
            self.pending.append(PendingRename(src, dst, backup, self.files.get(dst)))
            self.files[dst] = self.files.pop(src, FileState(synced=None, new_entry=False))
        elif kind == "link":
            src, dst = args
            source = self.files.get(src)
            self.files[dst] = FileState(synced=source.synced if source else None, new_entry=True)
        elif kind == "delete":
            self.files.pop(args[0], None)
        elif kind == "unsupported":
            raise ReplayError(f"the server used {args[0]} on {args[1]}, which the power-loss "
                              f"model cannot replay (in-place overwrites)")
        else:
            raise ReplayError(f"unknown journal record {kind!r}")

    def surviving_length(self, path: str) -> int | None:
        """Bytes of `path` a power cut now would keep: 0 if the file would be
        gone, None if the session never wrote it (it keeps all it has)."""
        state = self.files.get(path)
        if state is None:
            return None
        if state.new_entry or any(r.dst == path for r in self.pending):
            return 0
        return state.synced


@dataclass
class ReplayReport:
    records: int = 0
    truncated: dict[str, tuple[int, int]] = field(default_factory=dict)  # path: (size, kept)
    removed: list[str] = field(default_factory=list)
    renames_undone: int = 0

    @property
    def bytes_dropped(self) -> int:
        return sum(size - kept for size, kept in self.truncated.values())

    def summary(self) -> str:
        return (f"{self.records} journal records; cut {len(self.truncated)} files "
                f"({self.bytes_dropped} unsynced bytes), removed {len(self.removed)} "
                f"unsynced files, undid {self.renames_undone} renames")


def simulate_power_loss(journal: Path | str, *, upto: int | None = None,
                        remap: Callable[[str], str] = lambda p: p) -> ReplayReport:
    """Leaves the files the journal names as a power cut could have left them.

    The server must be dead. `upto` replays the power cut as of that journal
    offset instead of the end (the files must not have been deleted, renamed
    or rewritten since then; new files created since are removed). `remap`
    turns a journal path into the path to change, to replay on a copy of the
    data directory.
    """
    records = read_journal(journal)
    model = DiskModel()
    report = ReplayReport()
    later: list[Record] = []
    for record in records:
        if upto is None or record.end <= upto:
            model.apply(record)
            report.records += 1
        else:
            later.append(record)

    for record in later:
        if record.kind == "create" and record.args[1] == "0":
            _remove(remap(record.args[0]), report)
        elif record.kind in ("sync", "dirsync"):
            pass
        else:
            raise ReplayError(f"cannot replay a power cut at journal offset {upto}: a later "
                              f"{record.kind} record {record.args} changed files it needs")

    for rename in reversed(model.pending):
        dst, src = remap(rename.dst), remap(rename.src)
        if os.path.exists(dst):
            os.replace(dst, src)
        state = model.files.pop(rename.dst, None)
        if state is not None:
            model.files[rename.src] = state
        if rename.backup is not None:
            shutil.copyfile(rename.backup, dst)
            if rename.replaced is not None:
                model.files[rename.dst] = rename.replaced
        report.renames_undone += 1

    for path, state in sorted(model.files.items()):
        if is_info_log(path):
            continue
        target = remap(path)
        if not os.path.exists(target):
            continue
        if state.new_entry:
            _remove(target, report)
        elif state.synced is not None:
            size = os.path.getsize(target)
            if size > state.synced:
                os.truncate(target, state.synced)
                report.truncated[target] = (size, state.synced)
    return report


def _remove(path: str, report: ReplayReport):
    if os.path.exists(path) and not is_info_log(path):
        os.remove(path)
        report.removed.append(path)


def sync_records(records: Iterable[Record], suffix: str) -> list[Record]:
    """The file syncs among `records` of files whose name ends with `suffix`
    (".log": RocksDB's write-ahead log)."""
    return [r for r in records if r.kind == "sync" and r.args[0].endswith(suffix)]


def durable_at_marks(records: list[Record], marks: list[int],
                     positions: list[tuple[str, int]]) -> list[bool]:
    """For each write i: would a power cut at the moment the journal was
    marks[i] bytes long have kept it? positions[i] is (file, offset where the
    write ends), as wal_reader.find_keys gives it."""
    model = DiskModel()
    applied = 0
    durable = [False] * len(marks)
    for i in sorted(range(len(marks)), key=lambda i: marks[i]):
        while applied < len(records) and records[applied].end <= marks[i]:
            model.apply(records[applied])
            applied += 1
        path, end = positions[i]
        surviving = model.surviving_length(path)
        if surviving is None:
            raise ReplayError(f"{path} was not written through the sync journal")
        durable[i] = surviving >= end
    return durable
