// A RocksDB file system for power-loss tests: it forwards every call to the
// real file system and appends to a journal what a disk would have been
// promised to keep: which byte prefix of each file was fsynced, which files
// were created, renamed, linked or deleted, and which directories were
// fsynced. After the process is killed (SIGKILL keeps the page cache, so
// every byte written is still there), tests/durability/powerloss.py replays
// the journal and throws away everything that was never synced, leaving the
// data directory as a power cut at that moment could have left it.
//
// Journal format: one record per line, fields separated by tabs, paths
// absolute and percent-encoded ('%', tab, newline, carriage return). The first
// field is CLOCK_MONOTONIC in nanoseconds when the record was written, the
// second the record type:
//
//   create   <path> <existed 0|1>        opened for writing from offset 0
//   reopen   <path> <size>               opened for appending at <size>
//   sync     <path> <length>             bytes [0, length) are on disk
//   truncate <path> <size>               the file was cut to <size>
//   dirsync  <dir>                       directory entries in <dir> are on disk
//   rename   <from> <to> <backup|->      <backup>: copy of the <to> it replaced
//   link     <from> <to>
//   delete   <path>
//   unsupported <operation> <path>       an operation the replay cannot model
//
// A record is written after the operation succeeded and before the call
// returns to RocksDB, so a journal record always precedes anything RocksDB
// (or Tally) did because of it, such as acknowledging a write.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

namespace tally::testing {

// Wraps `base`, journaling to `journal_path` (created or appended to). Every
// sync of a write-ahead log file (*.log) first sleeps `wal_sync_delay`, to
// imitate a slow disk: it widens the window between a write and its fsync so
// tests can see who waits for it. Returns nullptr and sets *error when the
// journal cannot be opened.
std::shared_ptr<rocksdb::FileSystem> NewSyncTrackingFileSystem(
    std::shared_ptr<rocksdb::FileSystem> base, const std::string& journal_path, std::string* error,
    std::chrono::milliseconds wal_sync_delay = {});

// Fault injection for disk-error tests: wraps `base` so that while a file
// named `control_path` exists, every call that would put data on the disk —
// appending to, syncing or truncating a file, renaming or linking one,
// creating a directory — fails with IOStatus::NoSpace ("No space left on
// device") without touching the file. As on a really full disk, opening
// (creating) an empty file still works. RocksDB's info log (LOG) is spared,
// to keep the diagnosis. Reads always work. Creating or removing the control
// file flips the switch while the server runs.
std::shared_ptr<rocksdb::FileSystem> NewFaultSwitchFileSystem(
    std::shared_ptr<rocksdb::FileSystem> base, std::string control_path);

// For tally-server-synctrack (server/main.cc built with
// TALLY_TEST_ENV_FACTORY): an Env over the default file system, wrapped with
// the fault switch when TALLY_FAULT_FILE names a control file, then wrapped
// as above when TALLY_SYNC_JOURNAL names a journal file (with
// TALLY_WAL_SYNC_DELAY_MS as the delay, default 0); nullptr (RocksDB's
// default Env) when neither is set. Exits the process if the journal cannot
// be opened or the delay is not a number, since a test that asked for them
// would otherwise prove nothing.
rocksdb::Env* TestEnvFromEnvironment();

}  // namespace tally::testing
