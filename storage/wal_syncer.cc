#include "storage/wal_syncer.h"

#include <rocksdb/db.h>
#include <spdlog/spdlog.h>

#include <chrono>

namespace tally::storage {

bool ParseDurability(std::string_view text, Durability* out) {
  if (text == "always")
    *out = Durability::kAlways;
  else if (text == "everysec")
    *out = Durability::kEverySec;
  else if (text == "none" || text == "no")
    *out = Durability::kNone;
  else
    return false;
  return true;
}

const char* DurabilityName(Durability mode) {
  switch (mode) {
    case Durability::kAlways:
      return "always";
    case Durability::kEverySec:
      return "everysec";
    case Durability::kNone:
      return "none";
  }
  return "always";
}

WalSyncer::WalSyncer(rocksdb::DB* db, Durability mode, FailureHandler on_failure)
    : db_(db), mode_(mode), on_failure_(std::move(on_failure)) {
  // Whatever was in the WAL when the DB opened has been recovered from disk.
  durable_ = db_->GetLatestSequenceNumber();
  if (mode_ != Durability::kNone) thread_ = std::thread([this] { Run(); });
}

WalSyncer::~WalSyncer() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

uint64_t WalSyncer::VisibleSequence() const { return db_->GetLatestSequenceNumber(); }

void WalSyncer::WhenDurable(uint64_t sequence, Callback done) {
  if (mode_ != Durability::kAlways || sequence <= DurableSequence()) return done(true);
  {
    std::lock_guard lock(mu_);
    // Re-check under the lock: the syncer may have caught up meanwhile, and
    // after stop_ nobody would call us back.
    if (!stop_ && sequence > DurableSequence()) {
      waiters_.push_back({sequence, std::move(done)});
      wake_.notify_one();
      return;
    }
  }
  done(sequence <= DurableSequence());
}

bool WalSyncer::SyncNow(uint64_t* covered) {
  // Read the sequence first: everything up to it is already in the WAL file,
  // so the sync below makes all of it durable.
  uint64_t target = db_->GetLatestSequenceNumber();
  const uint64_t before = DurableSequence();
  if (target <= before) {
    *covered = DurableSequence();
    return true;
  }
  // After a failure nothing counts as synced until MarkRecovered.
  if (failed_.load(std::memory_order_acquire)) return false;
  const auto started = std::chrono::steady_clock::now();
  rocksdb::Status status = db_->SyncWAL();
  if (!status.ok()) {
    failures_.fetch_add(1, std::memory_order_relaxed);
    failed_.store(true, std::memory_order_release);
    spdlog::error("syncing the write-ahead log failed: {}", status.ToString());
    if (on_failure_) on_failure_(status.ToString());
    return false;
  }
  sync_ns_.Record(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                            std::chrono::steady_clock::now() - started)
                                            .count()));
  batch_sizes_.Record(target - before);
  syncs_.fetch_add(1, std::memory_order_relaxed);
  durable_.store(target, std::memory_order_release);
  *covered = target;
  return true;
}

void WalSyncer::MarkRecovered(uint64_t durable_sequence) {
  uint64_t durable = durable_.load();
  while (durable < durable_sequence && !durable_.compare_exchange_weak(durable, durable_sequence)) {
  }
  failed_.store(false, std::memory_order_release);
  wake_.notify_all();
}

void WalSyncer::NoteUnloggedWrite(uint64_t before, uint64_t after) {
  if (after != before + 1) return;  // other writes came in between: they need a sync.
  uint64_t expected = before;
  durable_.compare_exchange_strong(expected, after);
}

void WalSyncer::Run() {
  using namespace std::chrono_literals;
  std::unique_lock lock(mu_);
  while (true) {
    if (mode_ == Durability::kAlways) {
      wake_.wait(lock, [this] { return stop_ || !waiters_.empty(); });
    } else {
      wake_.wait_for(lock, 1s, [this] { return stop_; });
    }
    bool stopping = stop_;
    lock.unlock();
    uint64_t covered = 0;
    bool ok = SyncNow(&covered);
    lock.lock();

    // Release the waiters this sync covered; on failure release everyone so
    // no client hangs: they learn their writes may not be durable.
    std::vector<Waiter> ready;
    auto keep = waiters_.begin();
    for (auto& waiter : waiters_) {
      if (!ok || waiter.sequence <= covered) {
        ready.push_back(std::move(waiter));
      } else {
        *keep++ = std::move(waiter);
      }
    }
    waiters_.erase(keep, waiters_.end());
    lock.unlock();
    for (auto& waiter : ready) waiter.done(ok);
    if (!ok) std::this_thread::sleep_for(100ms);  // don't spin on a failing disk
    lock.lock();
    if (stopping && waiters_.empty()) return;
  }
}

}  // namespace tally::storage
