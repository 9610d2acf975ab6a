// SAVE and BGSAVE: online checkpoints with RocksDB's Checkpoint. One
// memtable flush, then hard links to the immutable table files (copying only
// the small MANIFEST, OPTIONS and WAL tail) in <dir>/checkpoints/<UTC time>.
// Each is a complete data directory: tally-server --dir <copy of it> starts
// with exactly the data that was visible when the checkpoint began.
#pragma once

#include <mutex>
#include <string>
#include <thread>

#include "storage/keyspace.h"

namespace tally::storage {

class Checkpoints {
 public:
  explicit Checkpoints(Keyspace::Impl& impl) : impl_(impl) {}
  ~Checkpoints() { Join(); }

  // Takes one on the calling thread; kBusy if another is running. On
  // success *path (nullable) is its directory, and the directory entries
  // that name it are on stable storage.
  Status Take(std::string* path);
  // The same on this object's thread: returns at once (kBusy if one runs).
  Status StartBackground();
  // Waits for a background checkpoint (before RocksDB closes).
  void Join();
  CheckpointInfo info() const;

 private:
  // Runs one; the caller has set running_.
  Status Run(std::string* path);

  Keyspace::Impl& impl_;
  mutable std::mutex mu_;
  bool running_ = false;  // guarded by mu_
  CheckpointInfo info_;   // guarded by mu_
  std::thread thread_;    // the last BGSAVE's
};

}  // namespace tally::storage
