// Counters and strings: INCRBY, INCRBYFLOAT, SET, MSET, MSETNX, GETDEL.
// Each is one read-modify-write under its keys' locks (storage/operation.h).
#include <climits>
#include <cmath>
#include <unordered_set>

#include "storage/numbers.h"
#include "storage/operation.h"

namespace tally::storage {
namespace {

// The integer INCRBY works on: int-encoded values are used as they are; raw
// text gets Redis's string2ll rules.
Status IntegerOf(const StoredValue& value, int64_t* number) {
  if (value.encoding == StringEncoding::kInt) {
    *number = value.int_value;
    return Status();
  }
  std::optional<int64_t> parsed = ParseInt64(value.raw);
  if (!parsed) return Status(Code::kNotInteger);
  *number = *parsed;
  return Status();
}

// The distinct keys of `pairs`, each with the value given last for it.
std::vector<std::pair<std::string_view, std::string_view>> LastValuePerKey(
    const std::vector<std::pair<std::string_view, std::string_view>>& pairs) {
  std::vector<std::pair<std::string_view, std::string_view>> distinct;
  std::unordered_set<std::string_view> seen;
  for (auto it = pairs.rbegin(); it != pairs.rend(); ++it) {
    if (seen.insert(it->first).second) distinct.push_back(*it);
  }
  return distinct;
}

}  // namespace

Status Keyspace::IncrBy(std::string_view key, int64_t delta, int64_t* result) {
  Operation op(impl_.get());
  Slot slot;
  Status status = op.LockAndLoad(key, &slot);
  if (!status.ok()) return status;
  int64_t current = 0;
  if (slot.live) {
    status = IntegerOf(slot.value, &current);
    if (!status.ok()) return status;
  }
  // Checked before adding: signed overflow is undefined behaviour.
  if ((delta > 0 && current > LLONG_MAX - delta) || (delta < 0 && current < LLONG_MIN - delta)) {
    return Status(Code::kOverflow);
  }
  const int64_t expire_at = slot.live ? slot.value.expire_at_ms : 0;
  op.Put(key, slot, MakeInt(current + delta, expire_at));
  status = op.Commit();
  if (status.ok()) *result = current + delta;
  return status;
}

Status Keyspace::IncrByFloat(std::string_view key, long double delta, std::string* result) {
  Operation op(impl_.get());
  Slot slot;
  Status status = op.LockAndLoad(key, &slot);
  if (!status.ok()) return status;
  long double current = 0;
  if (slot.live) {
    std::optional<long double> parsed = ParseLongDouble(slot.value.Text());
    if (!parsed) return Status(Code::kNotFloat);
    current = *parsed;
  }
  const long double sum = current + delta;
  if (std::isnan(sum) || std::isinf(sum)) return Status(Code::kNanOrInf);
  std::string text = FormatLongDoubleHuman(sum);
  const int64_t expire_at = slot.live ? slot.value.expire_at_ms : 0;
  op.Put(key, slot, MakeString(text, expire_at));
  status = op.Commit();
  if (status.ok()) *result = std::move(text);
  return status;
}

Status Keyspace::Set(std::string_view key, std::string_view value, const SetOptions& options,
                     SetResult* result) {
  *result = SetResult();
  Operation op(impl_.get());
  int64_t now = 0;
  Slot slot;
  Status status = op.LockAndLoad(key, &slot, &now);
  if (!status.ok()) return status;
  if (options.get_old && slot.live) result->old_value = slot.value.Text();
  if ((options.condition == SetCondition::kIfMissing && slot.live) ||
      (options.condition == SetCondition::kIfExists && !slot.live)) {
    return Status();
  }
  const int64_t expire_at =
      options.keep_ttl && slot.live ? slot.value.expire_at_ms : options.expire_at_ms;
  // A value born expired is never visible: store nothing (as ExpireAt does).
  if (IsExpired(expire_at, now)) {
    op.Delete(key, slot);
  } else {
    op.Put(key, slot, MakeString(value, expire_at));
  }
  status = op.Commit();
  result->applied = status.ok();
  return status;
}

Status Keyspace::MSet(const std::vector<std::pair<std::string_view, std::string_view>>& pairs) {
  bool applied = false;
  return impl_->SetMany(pairs, /*only_if_none_exist=*/false, &applied);
}

Status Keyspace::MSetNx(const std::vector<std::pair<std::string_view, std::string_view>>& pairs,
                        bool* applied) {
  return impl_->SetMany(pairs, /*only_if_none_exist=*/true, applied);
}

Status Keyspace::GetDel(std::string_view key, std::string* value) {
  Operation op(impl_.get());
  Slot slot;
  Status status = op.LockAndLoad(key, &slot);
  if (!status.ok()) return status;
  if (!slot.live) return Status(Code::kNotFound);
  op.Delete(key, slot);
  status = op.Commit();
  if (status.ok()) *value = slot.value.Text();
  return status;
}

Status Keyspace::Impl::SetMany(
    const std::vector<std::pair<std::string_view, std::string_view>>& pairs,
    bool only_if_none_exist, bool* applied) {
  *applied = false;
  const auto distinct = LastValuePerKey(pairs);
  std::vector<std::string_view> keys;
  keys.reserve(distinct.size());
  for (const auto& pair : distinct) keys.push_back(pair.first);

  Operation op(this);
  Status status = op.Lock(keys);
  if (!status.ok()) return status;
  const int64_t now = Now();
  std::vector<Slot> slots;
  status = op.LoadMany(keys, now, &slots);
  if (!status.ok()) return status;
  if (only_if_none_exist &&
      std::any_of(slots.begin(), slots.end(), [](const Slot& slot) { return slot.live; })) {
    return Status();
  }
  for (size_t i = 0; i < distinct.size(); ++i) {
    op.Put(keys[i], slots[i], MakeString(distinct[i].second, 0));
  }
  status = op.Commit();
  *applied = status.ok();
  return status;
}

}  // namespace tally::storage
