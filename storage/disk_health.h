// Whether the data directory takes writes, and the background job that
// makes it take them again.
//
// Any failed write to RocksDB (or failed WAL sync) puts the keyspace in the
// "disk failing" state: writes are refused up front with kDiskError naming
// RocksDB's error, reads go on. RocksDB itself turns read-only after such an
// error (its background error, severity "hard"). The recovery thread retries
// every second: DB::Resume() (which flushes the memtables, since the WAL's
// tail can no longer be trusted), a flush of every column family, and a
// synced probe write; when all succeed, everything up to the sequence read
// before the probe is on disk, the WalSyncer is told so and writes are
// accepted again. A write that failed was never applied (RocksDB inserts
// into the memtable only after the WAL append succeeded), so nothing
// acknowledged is lost and nothing refused appears later.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include <rocksdb/status.h>

#include "storage/keyspace.h"

namespace tally::storage {

class DiskHealth {
 public:
  explicit DiskHealth(Keyspace::Impl& impl) : impl_(impl) {}
  ~DiskHealth() { Stop(); }

  // Starts the recovery thread (after RocksDB is open).
  void Start();
  // Stops it (before RocksDB closes). Idempotent.
  void Stop();

  // Refuses a write while the disk is failing: kDiskError, else Ok.
  Status CheckWritable() const;
  // Enters the failing state (if not in it yet) and returns kDiskError.
  Status Failed(const std::string& error);
  // Non-empty while writes are refused: the error RocksDB reported.
  std::string Error() const;

 private:
  void Run();
  // One recovery attempt: Ok once writes reach the disk again.
  rocksdb::Status TryRecover();

  Keyspace::Impl& impl_;
  std::atomic<bool> failing_{false};  // set and cleared under mu_
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::string error_;                                // guarded by mu_; what failed first
  std::chrono::steady_clock::time_point failed_at_;  // guarded by mu_
  bool stopping_ = false;                            // guarded by mu_
  std::thread thread_;
};

}  // namespace tally::storage
