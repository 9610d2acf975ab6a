#include "storage/operation.h"

#include <algorithm>

#include "storage/transaction.h"
#include "storage/write_group.h"

namespace tally::storage {

Operation::Operation(Keyspace::Impl* impl, bool observed)
    : impl_(impl),
      observed_(observed),
      transaction_(impl->ActiveTransaction()),
      group_(transaction_ == nullptr ? impl->ScopedGroup() : nullptr),
      set_(transaction_ != nullptr ? &transaction_->set
           : group_ != nullptr     ? &group_->set
                                   : &own_) {
  // A write outside the thread's scope must neither wait for stripes its
  // own pending group holds nor overtake that group's writes.
  if (transaction_ == nullptr && group_ == nullptr) impl->CommitThreadGroup();
}

Status Operation::CheckCovered(std::string_view key) {
  if (transaction_->Covers(key)) return Status();
  constexpr size_t kShown = 64;
  std::string shown(key.substr(0, kShown));
  if (key.size() > kShown) shown += "...";
  return transaction_->Fail(Status(
      Code::kIoError, "key '" + shown + "' is written inside a transaction that did not lock it"));
}

Status Operation::Lock(std::string_view key) {
  if (transaction_ != nullptr) return CheckCovered(key);
  if (group_ != nullptr) {
    const size_t stripe = KeyLocks::StripeOf(key);
    return group_->Acquire({&stripe, 1});
  }
  guard_ = impl_->locks.Lock(key);
  return Status();
}

Status Operation::Lock(const std::vector<std::string_view>& keys) {
  if (transaction_ != nullptr) {
    for (std::string_view key : keys) {
      Status status = CheckCovered(key);
      if (!status.ok()) return status;
    }
    return Status();
  }
  if (group_ != nullptr) {
    std::vector<size_t> stripes;
    stripes.reserve(keys.size());
    for (std::string_view key : keys) stripes.push_back(KeyLocks::StripeOf(key));
    std::sort(stripes.begin(), stripes.end());
    stripes.erase(std::unique(stripes.begin(), stripes.end()), stripes.end());
    return group_->Acquire(stripes);
  }
  guard_ = impl_->locks.Lock(keys);
  return Status();
}

Status Operation::LockAll() {
  if (group_ != nullptr) {
    impl_->CommitThreadGroup();
    group_ = nullptr;
    set_ = &own_;
  }
  if (transaction_ == nullptr) {
    guard_ = impl_->locks.LockAll();
    return Status();
  }
  if (transaction_->all_keys) return Status();
  return transaction_->Fail(Status(
      Code::kIoError, "FLUSH inside a transaction needs every key locked (Atomically's all_keys)"));
}

Status Operation::LockAndLoad(std::string_view key, Slot* slot, int64_t* now) {
  Status status = Lock(key);
  if (!status.ok()) return status;
  const int64_t at = impl_->Now();
  if (now != nullptr) *now = at;
  return impl_->Load(set_, key, at, slot);
}

Status Operation::LoadMany(const std::vector<std::string_view>& keys, int64_t now,
                           std::vector<Slot>* slots) {
  return impl_->LoadMany(set_, keys, now, /*keys_locked=*/true, slots);
}

void Operation::Put(std::string_view key, const Slot& current, StoredValue next) {
  writes_.push_back(Write{key, current.present, current.value.expire_at_ms, std::move(next)});
}

void Operation::Delete(std::string_view key, const Slot& current) {
  if (!current.present) return;
  writes_.push_back(Write{key, true, current.value.expire_at_ms, std::nullopt});
}

void Operation::DeleteAll() { delete_all_ = true; }

Status Operation::Commit() {
  WriteSet& set = *set_;
  if (delete_all_) set.Reset(impl_->key_count.load(), impl_->expiring_count.load());
  // A write of one key caches it (the next INCR or GET of a counter is
  // likely); a write of many only refreshes the keys cached already.
  const bool cacheable = writes_.size() == 1;
  for (Write& write : writes_) {
    set.Record(write.key, write.was_present, write.was_expire_at_ms, std::move(write.next),
               cacheable);
  }
  writes_.clear();
  // A group's or a transaction's writes wait for their commit. (A group
  // past kMaxGroupBytes commits before its next write: WriteGroup::Acquire.)
  if (transaction_ != nullptr || group_ != nullptr) return Status();
  return impl_->Commit(own_, observed_);
}

}  // namespace tally::storage
