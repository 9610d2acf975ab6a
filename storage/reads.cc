// Point reads: through the calling thread's WriteSet (its own pending
// writes), then the counter cache, then RocksDB.
#include <algorithm>

#include "storage/keyspace_impl.h"
#include "storage/write_group.h"

namespace tally::storage {
namespace {

void SlotOf(StoredValue value, int64_t now, Slot* slot) {
  slot->value = std::move(value);
  slot->present = true;
  slot->live = !IsExpired(slot->value.expire_at_ms, now);
}

Status DecodeSlot(std::string_view encoded, int64_t now, Slot* slot) {
  Status status = DecodeValue(encoded, &slot->value);
  if (!status.ok()) return status;
  slot->present = true;
  slot->live = !IsExpired(slot->value.expire_at_ms, now);
  return Status();
}

// Fills *slot from the set's write of `key`, if it has one (after a Reset,
// a key it has not written is absent).
bool LoadPending(const WriteSet* set, std::string_view key, int64_t now, Slot* slot) {
  if (set == nullptr || set->empty()) return false;
  const PendingWrite* write = set->Find(key);
  if (write == nullptr) return set->reset();
  if (write->value) SlotOf(*write->value, now, slot);
  return true;
}

}  // namespace

Status IoError(const rocksdb::Status& status) { return Status(Code::kIoError, status.ToString()); }

KeyType KeyTypeOf(ValueType type) {
  switch (type) {
    case ValueType::kString:
      return KeyType::kString;
  }
  return KeyType::kNone;
}

Status Keyspace::Impl::Load(const WriteSet* set, std::string_view key, int64_t now, Slot* slot) {
  *slot = Slot();
  if (LoadPending(set, key, now, slot)) return Status();
  uint64_t ticket = 0;
  std::optional<StoredValue> cached;
  if (cache->Lookup(key, &cached, &ticket)) {
    if (cached) SlotOf(std::move(*cached), now, slot);
    return Status();
  }
  rocksdb::PinnableSlice encoded;
  rocksdb::Status status = db->Get(rocksdb::ReadOptions(), data, key, &encoded);
  if (status.IsNotFound()) {
    cache->Fill(key, std::nullopt, ticket);
    return Status();
  }
  if (!status.ok()) return Noted(IoError(status));
  Status decoded = DecodeSlot(encoded.ToStringView(), now, slot);
  if (decoded.ok()) cache->Fill(key, slot->value, ticket);
  return Noted(decoded);
}

Status Keyspace::Impl::LoadMany(const WriteSet* set, const std::vector<std::string_view>& keys,
                                int64_t now, bool keys_locked, std::vector<Slot>* slots) {
  slots->assign(keys.size(), Slot());
  if (keys.empty()) return Status();
  // With the keys locked, those in the counter cache are what RocksDB holds
  // and stay so: only the others need reading. The set's pending writes are
  // this thread's own: no other thread can change those keys before the set
  // commits, so they mix with either.
  std::vector<size_t> missed;
  std::vector<uint64_t> tickets;
  missed.reserve(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    uint64_t ticket = 0;
    Slot& slot = (*slots)[i];
    if (LoadPending(set, keys[i], now, &slot)) continue;
    std::optional<StoredValue> cached;
    if (keys_locked && cache->Lookup(keys[i], &cached, &ticket)) {
      if (cached) SlotOf(std::move(*cached), now, &slot);
      continue;
    }
    missed.push_back(i);
    tickets.push_back(ticket);
  }
  if (missed.empty()) return Status();
  std::vector<rocksdb::Slice> key_slices;
  key_slices.reserve(missed.size());
  for (size_t i : missed) key_slices.emplace_back(keys[i]);
  std::vector<rocksdb::PinnableSlice> values(missed.size());
  std::vector<rocksdb::Status> statuses(missed.size());
  db->MultiGet(rocksdb::ReadOptions(), data, missed.size(), key_slices.data(), values.data(),
               statuses.data());
  for (size_t j = 0; j < missed.size(); ++j) {
    // Absent keys are not noted: a bulk write (MSET of new keys) must not
    // fill the cache through them.
    if (statuses[j].IsNotFound()) continue;
    if (!statuses[j].ok()) return Noted(IoError(statuses[j]));
    Slot& slot = (*slots)[missed[j]];
    Status status = DecodeSlot(values[j].ToStringView(), now, &slot);
    if (!status.ok()) return Noted(status);
    if (keys_locked) cache->Fill(keys[missed[j]], slot.value, tickets[j]);
  }
  return Status();
}

Status Keyspace::Impl::LoadManyConsistent(const std::vector<std::string_view>& keys, int64_t now,
                                          KeyLocks::Guard* guard, std::vector<Slot>* slots) {
  const WriteSet* set = ActiveSet();
  bool locked = false;
  // A transaction holds its keys' stripes already (try_lock of a mutex its
  // own thread holds is undefined): it reads one snapshot.
  if (ActiveTransaction() == nullptr) {
    // Never wait: this thread's group may hold stripes another thread needs
    // to finish what it is doing with these.
    const WriteGroup* group = ThreadGroup();
    locked = locks.TryLock(keys, group != nullptr ? &group->stripes : nullptr, guard);
  }
  return LoadMany(set, keys, now, locked, slots);
}

Status Keyspace::Impl::ReadMetaInt64(std::string_view key, int64_t* value) {
  *value = 0;
  std::string encoded;
  rocksdb::Status status = db->Get(rocksdb::ReadOptions(), meta, key, &encoded);
  if (status.IsNotFound()) return Status();
  if (!status.ok()) return IoError(status);
  if (!layout::DecodeInt64(encoded, value)) {
    return Status(Code::kIoError, "meta entry " + std::string(key) + " is not an int64");
  }
  return Status();
}

Status Keyspace::Get(std::string_view key, std::string* value) {
  Slot slot;
  Status status = impl_->Load(impl_->ActiveSet(), key, NowMs(), &slot);
  if (!status.ok()) return status;
  if (!slot.live) return Status(Code::kNotFound);
  *value = slot.value.Text();
  return Status();
}

Status Keyspace::MGet(const std::vector<std::string_view>& keys,
                      std::vector<std::optional<std::string>>* values) {
  std::vector<Slot> slots;
  KeyLocks::Guard guard;
  Status status = impl_->LoadManyConsistent(keys, NowMs(), &guard, &slots);
  if (!status.ok()) return status;
  values->clear();
  values->reserve(slots.size());
  for (const Slot& slot : slots) {
    values->push_back(slot.live ? std::optional(slot.value.Text()) : std::nullopt);
  }
  return Status();
}

// The contract gives Exists, Type and the TTL reads no Status: a read error
// answers as if the key were missing.
int64_t Keyspace::Exists(const std::vector<std::string_view>& keys) {
  std::vector<Slot> slots;
  KeyLocks::Guard guard;
  if (!impl_->LoadManyConsistent(keys, NowMs(), &guard, &slots).ok()) return 0;
  return std::count_if(slots.begin(), slots.end(), [](const Slot& slot) { return slot.live; });
}

KeyType Keyspace::Type(std::string_view key) {
  Slot slot;
  if (!impl_->Load(impl_->ActiveSet(), key, NowMs(), &slot).ok() || !slot.live) {
    return KeyType::kNone;
  }
  return KeyTypeOf(slot.value.type);
}

int64_t Keyspace::TtlMs(std::string_view key) {
  const int64_t now = NowMs();
  Slot slot;
  if (!impl_->Load(impl_->ActiveSet(), key, now, &slot).ok() || !slot.live) return -2;
  return slot.value.expire_at_ms == 0 ? -1 : slot.value.expire_at_ms - now;
}

int64_t Keyspace::ExpireAtMs(std::string_view key) {
  Slot slot;
  if (!impl_->Load(impl_->ActiveSet(), key, NowMs(), &slot).ok() || !slot.live) return -2;
  return slot.value.expire_at_ms == 0 ? -1 : slot.value.expire_at_ms;
}

// The committed counts, with the calling thread's pending changes.
uint64_t Keyspace::Size() const {
  const WriteSet* set = impl_->ActiveSet();
  const int64_t count = impl_->key_count.load() + (set != nullptr ? set->key_delta() : 0);
  return static_cast<uint64_t>(std::max<int64_t>(0, count));
}

uint64_t Keyspace::ExpiringSize() const {
  const WriteSet* set = impl_->ActiveSet();
  const int64_t count = impl_->expiring_count.load() + (set != nullptr ? set->expiring_delta() : 0);
  return static_cast<uint64_t>(std::max<int64_t>(0, count));
}

Status Keyspace::Strlen(std::string_view key, int64_t* length) {
  Slot slot;
  Status status = impl_->Load(impl_->ActiveSet(), key, NowMs(), &slot);
  if (!status.ok()) return status;
  *length = slot.live ? slot.value.TextLength() : 0;
  return Status();
}

}  // namespace tally::storage
