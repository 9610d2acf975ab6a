// DEL, EXPIRE and friends, PERSIST, FLUSH.
#include <algorithm>

#include "storage/operation.h"

namespace tally::storage {
namespace {

// EXPIRE's NX/XX/GT/LT exactly as Redis 7 checks them, each set option in
// turn; `current` is 0 when the key has no expiry, which GT and LT treat as
// an infinite TTL.
bool ExpireConditionHolds(const ExpireCondition& condition, int64_t current, int64_t at_ms) {
  if (condition.nx && current != 0) return false;
  if (condition.xx && current == 0) return false;
  if (condition.gt && (current == 0 || at_ms <= current)) return false;
  if (condition.lt && current != 0 && at_ms >= current) return false;
  return true;
}

std::vector<std::string_view> DistinctKeys(const std::vector<std::string_view>& keys) {
  std::vector<std::string_view> distinct(keys);
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  return distinct;
}

}  // namespace

Status Keyspace::Del(const std::vector<std::string_view>& keys, int64_t* deleted) {
  // A key named twice is deleted once and counted once, as in Redis.
  const std::vector<std::string_view> distinct = DistinctKeys(keys);
  Operation op(impl_.get());
  Status status = op.Lock(distinct);
  if (!status.ok()) return status;
  std::vector<Slot> slots;
  status = op.LoadMany(distinct, NowMs(), &slots);
  if (!status.ok()) return status;
  int64_t live = 0;
  for (size_t i = 0; i < distinct.size(); ++i) {
    if (slots[i].live) ++live;
    op.Delete(distinct[i], slots[i]);  // expired ones go too, uncounted.
  }
  status = op.Commit();
  if (status.ok()) *deleted = live;
  return status;
}

Status Keyspace::ExpireAt(std::string_view key, int64_t at_ms, ExpireCondition condition,
                          bool* applied) {
  *applied = false;
  Operation op(impl_.get());
  int64_t now = 0;
  Slot slot;
  Status status = op.LockAndLoad(key, &slot, &now);
  if (!status.ok()) return status;
  // Redis checks the condition before the deletion of a past time.
  if (!slot.live || !ExpireConditionHolds(condition, slot.value.expire_at_ms, at_ms)) {
    return Status();
  }
  if (at_ms <= now) {
    op.Delete(key, slot);
  } else {
    StoredValue next = slot.value;
    next.expire_at_ms = at_ms;
    op.Put(key, slot, next);
  }
  status = op.Commit();
  *applied = status.ok();
  return status;
}

Status Keyspace::Persist(std::string_view key, bool* applied) {
  *applied = false;
  Operation op(impl_.get());
  Slot slot;
  Status status = op.LockAndLoad(key, &slot);
  if (!status.ok()) return status;
  if (!slot.live || slot.value.expire_at_ms == 0) return Status();
  StoredValue next = slot.value;
  next.expire_at_ms = 0;
  op.Put(key, slot, next);
  status = op.Commit();
  *applied = status.ok();
  return status;
}

// Holding every stripe keeps all other writers (and the reaper) out meanwhile.
Status Keyspace::Flush() {
  Operation op(impl_.get());
  Status status = op.LockAll();
  if (!status.ok()) return status;
  op.DeleteAll();
  return op.Commit();
}

}  // namespace tally::storage
