// UpdateString: the one read-modify-write behind the commands that compute a
// string from strings (APPEND, SETRANGE, GETEX, the bitmap and HyperLogLog
// commands), so each of them is a pure function of values in the command
// layer (storage/bitops.h, storage/hyperloglog.h) plus this call.
#include <algorithm>

#include "storage/operation.h"

namespace tally::storage {

Status Keyspace::UpdateString(const std::vector<std::string_view>& keys,
                              const StringUpdater& update) {
  if (keys.empty()) return Status(Code::kIoError, "UpdateString needs a destination key");
  std::vector<std::string_view> distinct(keys);
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());

  Operation op(impl_.get());
  std::vector<Slot> slots(distinct.size());
  Status status;
  if (distinct.size() == 1) {
    // The common case (SETBIT, PFADD, APPEND...): the single-key path.
    status = op.LockAndLoad(distinct[0], &slots[0]);
  } else {
    status = op.Lock(distinct);
    if (status.ok()) status = op.LoadMany(distinct, impl_->Now(), &slots);
  }
  if (!status.ok()) return status;
  auto slot_of = [&](std::string_view key) -> const Slot& {
    return slots[std::lower_bound(distinct.begin(), distinct.end(), key) - distinct.begin()];
  };

  std::vector<std::optional<std::string>> values(keys.size());
  std::vector<int64_t> expiries(keys.size(), 0);
  for (size_t i = 0; i < keys.size(); ++i) {
    const Slot& slot = slot_of(keys[i]);
    if (!slot.live) continue;
    values[i] = slot.value.Text();
    expiries[i] = slot.value.expire_at_ms;
  }
  StringUpdate decision = update(values, expiries);

  const Slot& dest = slot_of(keys[0]);
  switch (decision.action) {
    case StringUpdate::Action::kNone:
      return Status();
    case StringUpdate::Action::kDelete:
      if (!dest.live) return Status();
      op.Delete(keys[0], dest);
      break;
    case StringUpdate::Action::kStore: {
      const int64_t expire_at = decision.expire_at_ms != StringUpdate::kKeepTtl
                                    ? decision.expire_at_ms
                                    : (dest.live ? dest.value.expire_at_ms : 0);
      op.Put(keys[0], dest, MakeString(decision.value, expire_at));
      break;
    }
  }
  return op.Commit();
}

}  // namespace tally::storage
