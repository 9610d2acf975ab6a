// The background job that deletes expired keys and unused SCAN states.
//
// Expiry is lazy, as in Redis: every read and write treats a value whose
// expiry is <= now as missing (a write replaces it). The reaper deletes
// expired keys physically by reading the time-ordered expiry index from its
// front, locking and re-checking each key, and committing the deletions
// through the one commit path (with their index entries and counts). We
// deliberately do not expire in a compaction filter: a filter could drop a
// value while its index entry and its share of the counts stayed, and DBSIZE
// would drift.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "storage/keyspace.h"

namespace tally::storage {

class Reaper {
 public:
  explicit Reaper(Keyspace::Impl& impl) : impl_(impl) {}
  ~Reaper() { Stop(); }

  // Starts the thread, which runs a round every reaper_interval_ms.
  void Start();
  // Stops it (before RocksDB closes). Idempotent.
  void Stop();

 private:
  void Run();
  Status ReapExpiredKeys();
  // Deletes those of `keys` that are still expired once locked: a writer may
  // have replaced a value or changed its TTL since the index was read.
  Status ReapKeys(const std::vector<std::string>& keys);

  Keyspace::Impl& impl_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace tally::storage
