// Group commit. Writes go to RocksDB's write-ahead log without waiting for
// fsync; one background thread calls SyncWAL() for everything written so far
// and then releases every reply that was waiting for those writes. While one
// sync is in flight, new writes keep being applied and queue for the next, so
// one fsync covers as many writes as arrived during the previous one: one per
// write when idle, one per batch under load.
//
// RocksDB sequence numbers say which writes a sync covered: a write is
// visible to readers only once it is in the WAL file, so every write with a
// sequence number <= GetLatestSequenceNumber() read before SyncWAL() starts is
// on stable storage when SyncWAL() returns.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "storage/histogram.h"

namespace rocksdb {
class DB;
}

namespace tally::storage {

enum class Durability {
  kAlways,    // a reply waits until the writes it reflects are fsynced.
  kEverySec,  // the WAL is fsynced about once a second; replies don't wait.
  kNone,      // the operating system decides when the WAL reaches the disk.
};

// Parses "always", "everysec" or "no"/"none" (Redis's appendfsync values).
bool ParseDurability(std::string_view text, Durability* out);
const char* DurabilityName(Durability mode);

class WalSyncer {
 public:
  // Called with true once the awaited writes are durable, or with false if
  // syncing the WAL failed (the writes may not survive a power loss).
  using Callback = std::function<void(bool durable)>;

  // Called on the syncer thread with RocksDB's error each time a sync fails.
  using FailureHandler = std::function<void(const std::string& error)>;

  WalSyncer(rocksdb::DB* db, Durability mode, FailureHandler on_failure = {});
  // Syncs once more, then stops the thread. Must run before the DB closes.
  ~WalSyncer();
  WalSyncer(const WalSyncer&) = delete;
  WalSyncer& operator=(const WalSyncer&) = delete;

  Durability mode() const { return mode_; }

  // The newest sequence number visible to readers: a reply computed now can
  // reflect writes up to it and no further.
  uint64_t VisibleSequence() const;
  // Every write up to this sequence number is on stable storage.
  uint64_t DurableSequence() const { return durable_.load(std::memory_order_acquire); }

  // In kAlways mode, runs `done` once every write up to `sequence` is synced:
  // at once on the calling thread if it already is, else on the syncer
  // thread. In the other modes runs `done(true)` at once.
  void WhenDurable(uint64_t sequence, Callback done);

  // After a failed fsync the kernel may have dropped the unsynced pages, and
  // a later fsync can succeed without them (Linux reports the error once).
  // So once a sync fails the syncer stops syncing and fails every waiter
  // until the owner has made the data durable some other way (flushed the
  // memtables to synced tables) and calls this with the sequence number up
  // to which it did.
  void MarkRecovered(uint64_t durable_sequence);
  bool failed() const { return failed_.load(std::memory_order_acquire); }

  // A write that bypassed the WAL moved the sequence from `before` to
  // `after`. If it was the only write and everything before it was durable,
  // it counts as durable too (it needs no fsync), so no reply waits for one.
  void NoteUnloggedWrite(uint64_t before, uint64_t after);

  // Number of successful WAL syncs so far (for INFO and tests).
  uint64_t sync_count() const { return syncs_.load(std::memory_order_relaxed); }
  // Number of failed syncs so far.
  uint64_t failure_count() const { return failures_.load(std::memory_order_relaxed); }
  // Per successful sync: how many writes (RocksDB sequence numbers) it made
  // durable, the group commit's batch size; and how long it took, in ns.
  storage::HistogramSnapshot batch_sizes() const { return batch_sizes_.Snapshot(); }
  storage::HistogramSnapshot sync_durations_ns() const { return sync_ns_.Snapshot(); }

 private:
  struct Waiter {
    uint64_t sequence;
    Callback done;
  };

  void Run();
  // Syncs the WAL; returns whether it succeeded. Called without mu_ held.
  bool SyncNow(uint64_t* covered);

  rocksdb::DB* db_;
  const Durability mode_;
  const FailureHandler on_failure_;
  std::atomic<bool> failed_{false};  // a sync failed; see MarkRecovered.
  std::atomic<uint64_t> durable_{0};
  std::atomic<uint64_t> syncs_{0};
  std::atomic<uint64_t> failures_{0};
  Histogram batch_sizes_;
  Histogram sync_ns_;

  std::mutex mu_;
  std::condition_variable wake_;
  std::vector<Waiter> waiters_;  // guarded by mu_
  bool stop_ = false;            // guarded by mu_
  std::thread thread_;
};

}  // namespace tally::storage
