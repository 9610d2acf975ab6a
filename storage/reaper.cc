#include "storage/reaper.h"

#include <algorithm>
#include <chrono>

#include "storage/keyspace_impl.h"
#include "storage/layout.h"
#include "storage/operation.h"

namespace tally::storage {
namespace {

// Expired keys are deleted in batches of kReapChunk (locking their stripes
// together), at most kReapPerRound per round, so the reaper never holds up
// foreground writes for long.
constexpr size_t kReapChunk = 128;
constexpr size_t kReapPerRound = 16'384;

}  // namespace

void Reaper::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Reaper::Stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Reaper::Run() {
  const std::chrono::milliseconds interval(std::max(1, impl_.options.reaper_interval_ms));
  std::unique_lock lock(mu_);
  while (!wake_.wait_for(lock, interval, [this] { return stopping_; })) {
    lock.unlock();
    // A failed round changes nothing that the next round cannot redo.
    ReapExpiredKeys();
    impl_.cursors.Reap(impl_.Now());
    lock.lock();
  }
}

Status Reaper::ReapExpiredKeys() {
  BoundedIterator it(impl_.db, impl_.expiry, layout::ExpiryIndexBound(impl_.Now()));
  size_t reaped = 0;
  it.SeekToFirst();
  while (it.Valid() && reaped < kReapPerRound) {
    std::vector<std::string> due;
    for (; it.Valid() && due.size() < kReapChunk; it.Next()) {
      std::string_view key;
      if (layout::ParseExpiryIndexKey(it.key(), &key)) due.emplace_back(key);
    }
    Status status = ReapKeys(due);
    if (!status.ok()) return status;
    reaped += due.size();
  }
  return it.status().ok() ? Status() : IoError(it.status());
}

Status Reaper::ReapKeys(const std::vector<std::string>& keys) {
  const std::vector<std::string_view> views(keys.begin(), keys.end());
  Operation op(&impl_, /*observed=*/false);
  Status status = op.Lock(views);
  if (!status.ok()) return status;
  std::vector<Slot> slots;
  status = op.LoadMany(views, impl_.Now(), &slots);
  if (!status.ok()) return status;
  for (size_t i = 0; i < views.size(); ++i) {
    if (slots[i].present && !slots[i].live) op.Delete(views[i], slots[i]);
  }
  return op.Commit();
}

}  // namespace tally::storage
