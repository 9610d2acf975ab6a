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
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "storage/histogram.h"

namespace rocksdb {
class DB;
class FileSystem;
class FSWritableFile;
}  // namespace rocksdb

namespace tally::storage {

enum class Durability {
  kAlways,    // a reply waits until the writes it reflects are fsynced.
  kEverySec,  // the WAL is fsynced about once a second; replies don't wait.
  kNone,      // the operating system decides when the WAL reaches the disk.
};

// Parses "always", "everysec" or "no"/"none" (Redis's appendfsync values).
bool ParseDurability(std::string_view text, Durability* out);
const char* DurabilityName(Durability mode);

// A full disk makes an append to the WAL fail, and RocksDB 7.8's WAL writer
// remembers that: SyncWAL() on it then hits
// `assert(sync_without_flush_called_)` in
// WritableFileWriter::AssertFalseAndGetStatusForPrevError(), which aborts the
// process (Debian builds RocksDB with its asserts on). Nothing tells the
// caller beforehand, and writes go on while the syncer syncs, so the syncer
// cannot check first. Hence this guard: RocksDB opens its WAL files through
// the file system Wrap() returns, which sees a failed append before RocksDB's
// writer does. It then waits for a SyncWAL() in flight (which must find no
// error yet), records the failure so that no SyncWAL() starts any more until
// recovery, and fsyncs the WAL files itself: a write whose append failed was
// never applied, so if that fsync succeeds every applied write is durable and
// no reply needs to wait for the recovery.
class WalGuard : public std::enable_shared_from_this<WalGuard> {
 public:
  // `base` with its WAL files reporting to this guard (which they keep alive).
  std::shared_ptr<rocksdb::FileSystem> Wrap(std::shared_ptr<rocksdb::FileSystem> base);

  // What a failed append left: nothing (kNone), every applied write fsynced
  // (kSynced), or fsyncing them failed too (kUnsynced).
  enum class AppendFailure { kNone, kSynced, kUnsynced };
  // Runs `sync` (the SyncWAL call) unless an append failed, which it returns.
  AppendFailure SyncUnlessFailed(const std::function<void()>& sync);
  // Recovery opened a new WAL: SyncWAL() is safe again.
  void Clear();

  // Called by the wrapped WAL files.
  void OnAppendFailed();
  void Register(rocksdb::FSWritableFile* file);
  void Unregister(rocksdb::FSWritableFile* file);

 private:
  // Held across every SyncWAL(); a failing append waits for it (bounded: a
  // write that syncs itself may hold what SyncWAL waits for).
  std::timed_mutex sync_mu_;
  std::atomic<AppendFailure> failure_{AppendFailure::kNone};
  std::mutex files_mu_;
  std::set<rocksdb::FSWritableFile*> files_;  // open WAL files; guarded by files_mu_
};

class WalSyncer {
 public:
  // Called with true once the awaited writes are durable, or with false if
  // syncing the WAL failed (the writes may not survive a power loss).
  using Callback = std::function<void(bool durable)>;

  // Called on the syncer thread with RocksDB's error each time a sync fails.
  using FailureHandler = std::function<void(const std::string& error)>;

  // `guard` (may be null) is the one RocksDB's file system was wrapped with.
  WalSyncer(rocksdb::DB* db, Durability mode, FailureHandler on_failure = {},
            std::shared_ptr<WalGuard> guard = nullptr);
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
  //
  // When a sync fails, the writes it should have covered were applied all
  // the same (they are in the memtables): the disk recovery will make them
  // durable by flushing the memtables (MarkRecovered). So a waiter is held
  // for that, up to kFailedSyncHold after it started waiting, and only then
  // (or at shutdown) gets `done(false)`: its writes' fate is unknown. The
  // hold covers RocksDB's own recovery from a full disk, which looks for free
  // space every 5 s (a manual DB::Resume() is refused meanwhile).
  void WhenDurable(uint64_t sequence, Callback done);
  static constexpr std::chrono::milliseconds kFailedSyncHold{10000};

  // After a failed fsync the kernel may have dropped the unsynced pages, and
  // a later fsync can succeed without them (Linux reports the error once).
  // So once a sync fails the syncer stops syncing and fails every waiter
  // until the owner has made the data durable some other way (flushed the
  // memtables to synced tables) and calls this with the sequence number up
  // to which it did.
  void MarkRecovered(uint64_t durable_sequence);

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
    std::chrono::steady_clock::time_point since;
  };

  void Run();
  // Syncs the WAL; returns whether it succeeded. Called without mu_ held.
  bool SyncNow(uint64_t* covered);

  rocksdb::DB* db_;
  const Durability mode_;
  const FailureHandler on_failure_;
  const std::shared_ptr<WalGuard> guard_;
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
