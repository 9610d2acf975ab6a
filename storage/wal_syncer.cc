#include "storage/wal_syncer.h"

#include <rocksdb/db.h>
#include <rocksdb/file_system.h>
#include <spdlog/spdlog.h>

#include <chrono>

namespace tally::storage {
namespace {

bool IsWalFile(const std::string& name) { return name.ends_with(".log"); }

// A WAL file that reports a failed append to the guard before RocksDB's
// writer learns of it.
class GuardedWalFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  GuardedWalFile(std::unique_ptr<rocksdb::FSWritableFile> file, std::shared_ptr<WalGuard> guard)
      : FSWritableFileOwnerWrapper(std::move(file)), guard_(std::move(guard)) {
    guard_->Register(target());
  }
  ~GuardedWalFile() override { guard_->Unregister(target()); }

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    return Checked(target()->Append(data, options, dbg));
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& info,
                           rocksdb::IODebugContext* dbg) override {
    return Checked(target()->Append(data, options, info, dbg));
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     rocksdb::IODebugContext* dbg) override {
    return Checked(target()->PositionedAppend(data, offset, options, dbg));
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     const rocksdb::DataVerificationInfo& info,
                                     rocksdb::IODebugContext* dbg) override {
    return Checked(target()->PositionedAppend(data, offset, options, info, dbg));
  }
  rocksdb::IOStatus Flush(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    return Checked(target()->Flush(options, dbg));
  }

 private:
  rocksdb::IOStatus Checked(rocksdb::IOStatus status) {
    if (!status.ok()) guard_->OnAppendFailed();
    return status;
  }

  const std::shared_ptr<WalGuard> guard_;
};

class GuardedFileSystem : public rocksdb::FileSystemWrapper {
 public:
  GuardedFileSystem(std::shared_ptr<rocksdb::FileSystem> base, std::shared_ptr<WalGuard> guard)
      : FileSystemWrapper(std::move(base)), guard_(std::move(guard)) {}
  const char* Name() const override { return "TallyWalGuard"; }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    return Wrapped(name, target()->NewWritableFile(name, options, result, dbg), result);
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override {
    return Wrapped(name, target()->ReopenWritableFile(name, options, result, dbg), result);
  }
  rocksdb::IOStatus ReuseWritableFile(const std::string& name, const std::string& old_name,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override {
    return Wrapped(name, target()->ReuseWritableFile(name, old_name, options, result, dbg), result);
  }

 private:
  rocksdb::IOStatus Wrapped(const std::string& name, rocksdb::IOStatus status,
                            std::unique_ptr<rocksdb::FSWritableFile>* result) {
    if (status.ok() && IsWalFile(name)) {
      *result = std::make_unique<GuardedWalFile>(std::move(*result), guard_);
    }
    return status;
  }

  const std::shared_ptr<WalGuard> guard_;
};

}  // namespace

std::shared_ptr<rocksdb::FileSystem> WalGuard::Wrap(std::shared_ptr<rocksdb::FileSystem> base) {
  return std::make_shared<GuardedFileSystem>(std::move(base), shared_from_this());
}

void WalGuard::Register(rocksdb::FSWritableFile* file) {
  std::lock_guard lock(files_mu_);
  files_.insert(file);
}

void WalGuard::Unregister(rocksdb::FSWritableFile* file) {
  std::lock_guard lock(files_mu_);
  files_.erase(file);
}

void WalGuard::OnAppendFailed() {
  using namespace std::chrono_literals;
  // A SyncWAL() in flight may not have looked at the writer's error state
  // yet; RocksDB sets it only once this append returns, so let it finish.
  std::unique_lock lock(sync_mu_, std::defer_lock);
  const bool locked = lock.try_lock_for(2s);
  if (failure_.load() != AppendFailure::kNone) return;  // an earlier append reported already
  // Everything appended before this append is on its way to the file: fsync
  // it, so that the writes RocksDB applied are durable although SyncWAL()
  // cannot be called any more.
  bool synced = true;
  {
    std::lock_guard files(files_mu_);
    for (rocksdb::FSWritableFile* file : files_) {
      synced = file->Fsync(rocksdb::IOOptions(), nullptr).ok() && synced;
    }
  }
  failure_.store(synced ? AppendFailure::kSynced : AppendFailure::kUnsynced);
  spdlog::error("appending to the write-ahead log failed; {}",
                synced ? "every write applied before was fsynced"
                       : "fsyncing the writes applied before failed too");
  if (!locked) spdlog::warn("a WAL sync in flight did not finish within 2 s of the failure");
}

WalGuard::AppendFailure WalGuard::SyncUnlessFailed(const std::function<void()>& sync) {
  std::lock_guard lock(sync_mu_);
  const AppendFailure failure = failure_.load();
  if (failure == AppendFailure::kNone) sync();
  return failure;
}

void WalGuard::Clear() {
  std::lock_guard lock(sync_mu_);
  failure_.store(AppendFailure::kNone);
}

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

WalSyncer::WalSyncer(rocksdb::DB* db, Durability mode, FailureHandler on_failure,
                     std::shared_ptr<WalGuard> guard)
    : db_(db), mode_(mode), on_failure_(std::move(on_failure)), guard_(std::move(guard)) {
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
      waiters_.push_back({sequence, std::move(done), std::chrono::steady_clock::now()});
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
  rocksdb::Status status;
  WalGuard::AppendFailure append_failure = WalGuard::AppendFailure::kNone;
  if (guard_ != nullptr) {
    append_failure = guard_->SyncUnlessFailed([&] { status = db_->SyncWAL(); });
  } else {
    status = db_->SyncWAL();
  }
  if (append_failure == WalGuard::AppendFailure::kSynced) {
    // Everything visible was appended before the failed append and fsynced
    // since (WalGuard::OnAppendFailed); nothing newer can be applied until
    // recovery, which calls MarkRecovered.
    durable_.store(target, std::memory_order_release);
    *covered = target;
    return true;
  }
  if (append_failure == WalGuard::AppendFailure::kUnsynced) {
    status = rocksdb::Status::IOError("appending to the write-ahead log failed");
  }
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
  // Recovery opened a new WAL, so SyncWAL() is safe again.
  if (guard_ != nullptr) guard_->Clear();
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

    // Release the waiters whose writes are durable now (this sync, or the
    // disk recovery, covered them). After a failure the others wait for the
    // recovery, each for kFailedSyncHold at most (see WhenDurable).
    if (!ok) covered = DurableSequence();
    const auto now = std::chrono::steady_clock::now();
    std::vector<Waiter> durable;
    std::vector<Waiter> given_up;
    auto keep = waiters_.begin();
    for (auto& waiter : waiters_) {
      if (waiter.sequence <= covered) {
        durable.push_back(std::move(waiter));
      } else if (!ok && (stopping || now - waiter.since >= kFailedSyncHold)) {
        given_up.push_back(std::move(waiter));
      } else {
        *keep++ = std::move(waiter);
      }
    }
    waiters_.erase(keep, waiters_.end());
    lock.unlock();
    for (auto& waiter : durable) waiter.done(true);
    for (auto& waiter : given_up) waiter.done(false);
    if (!ok) std::this_thread::sleep_for(100ms);  // don't spin on a failing disk
    lock.lock();
    if (stopping && waiters_.empty()) return;
  }
}

}  // namespace tally::storage
