#include "storage/counter_cache.h"

#include <functional>

namespace tally::storage {
namespace {

// What libstdc++ keeps inline in a std::string; longer text is on the heap.
constexpr size_t kInlineString = 15;
// An entry's node (key string, StoredValue, charge, list links, hash, next
// pointer), the allocator's header, and its bucket slot.
constexpr size_t kNodeBytes = 160;

size_t HeapBytes(size_t length) { return length > kInlineString ? length + 1 : 0; }

}  // namespace

CounterCache::CounterCache(size_t capacity_bytes)
    : capacity_bytes_(capacity_bytes), shard_capacity_(capacity_bytes / kShards) {}

size_t CounterCache::ChargeOf(std::string_view key, const std::optional<StoredValue>& value) {
  return kNodeBytes + HeapBytes(key.size()) + (value ? HeapBytes(value->raw.size()) : 0);
}

CounterCache::Shard& CounterCache::ShardOf(std::string_view key) {
  // The top bits of a multiplicative mix: independent of the low bits the
  // map's buckets (and the key-lock stripes) use.
  const uint64_t mixed = std::hash<std::string_view>{}(key)*0x9E3779B97F4A7C15ull;
  return shards_[mixed >> 58];
}

bool CounterCache::Lookup(std::string_view key, std::optional<StoredValue>* value,
                          uint64_t* ticket) {
  if (capacity_bytes_ == 0) {
    *ticket = 0;
    return false;
  }
  Shard& shard = ShardOf(key);
  std::lock_guard lock(shard.mutex);
  auto it = shard.map.find(key);
  if (it == shard.map.end() || it->second.writing || shard.clearing) {
    ++shard.misses;
    *ticket = shard.epoch;
    return false;
  }
  ++shard.hits;
  *value = it->second.value;
  if (shard.newest != &*it) {
    Unlink(shard, &*it);
    LinkNewest(shard, &*it);
  }
  return true;
}

void CounterCache::Fill(std::string_view key, const std::optional<StoredValue>& value,
                        uint64_t ticket) {
  if (capacity_bytes_ == 0 || (value && value->raw.size() > kMaxValueBytes)) return;
  Shard& shard = ShardOf(key);
  std::lock_guard lock(shard.mutex);
  if (shard.epoch != ticket || shard.clearing) return;
  auto it = shard.map.find(key);
  if (it != shard.map.end() && it->second.writing) return;
  Store(shard, key, value);
}

void CounterCache::BeginWrite(std::string_view key) {
  if (capacity_bytes_ == 0) return;
  Shard& shard = ShardOf(key);
  std::lock_guard lock(shard.mutex);
  ++shard.epoch;  // tickets of readers that missed before now are void.
  auto it = shard.map.find(key);
  if (it != shard.map.end()) {
    it->second.writing = true;
    return;
  }
  const size_t charge = ChargeOf(key, std::nullopt);
  if (charge > shard_capacity_) return;  // a tiny cache: the epoch guards fills.
  it = shard.map.emplace(std::string(key), Entry{}).first;
  it->second.charge = charge;
  it->second.writing = true;
  it->second.fresh = true;
  shard.bytes += charge;
  LinkNewest(shard, &*it);
  Evict(shard);
}

void CounterCache::Put(std::string_view key, const StoredValue& value) {
  if (capacity_bytes_ == 0) return;
  if (value.raw.size() > kMaxValueBytes) return Erase(key);
  Shard& shard = ShardOf(key);
  std::lock_guard lock(shard.mutex);
  ++shard.epoch;
  Store(shard, key, value);
}

void CounterCache::Update(std::string_view key, const StoredValue& value) {
  if (capacity_bytes_ == 0) return;
  if (value.raw.size() > kMaxValueBytes) return Erase(key);
  Shard& shard = ShardOf(key);
  std::lock_guard lock(shard.mutex);
  ++shard.epoch;  // a reader's fill of the old value must fail either way.
  auto it = shard.map.find(key);
  if (it == shard.map.end()) return;
  if (it->second.fresh) return Remove(shard, it);  // only the mark was cached.
  Store(shard, key, value);
}

void CounterCache::Erase(std::string_view key) {
  if (capacity_bytes_ == 0) return;
  Shard& shard = ShardOf(key);
  std::lock_guard lock(shard.mutex);
  ++shard.epoch;
  auto it = shard.map.find(key);
  if (it != shard.map.end()) Remove(shard, it);
}

void CounterCache::BeginClear() {
  Clear();
  for (Shard& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    shard.clearing = true;
  }
}

void CounterCache::Clear() {
  for (Shard& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    ++shard.epoch;
    shard.clearing = false;
    shard.map.clear();
    shard.newest = shard.oldest = nullptr;
    shard.bytes = 0;
  }
}

CounterCacheStats CounterCache::stats() const {
  CounterCacheStats total;
  total.capacity_bytes = capacity_bytes_;
  for (const Shard& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    total.bytes += shard.bytes;
    total.entries += shard.map.size();
    total.hits += shard.hits;
    total.misses += shard.misses;
  }
  return total;
}

void CounterCache::Store(Shard& shard, std::string_view key,
                         const std::optional<StoredValue>& value) {
  const size_t charge = ChargeOf(key, value);
  if (charge > shard_capacity_) {
    // Cannot fit at all (a tiny capacity): drop any older value instead.
    auto it = shard.map.find(key);
    if (it != shard.map.end()) Remove(shard, it);
    return;
  }
  auto it = shard.map.find(key);
  if (it == shard.map.end()) {
    it = shard.map.emplace(std::string(key), Entry{}).first;
  } else {
    shard.bytes -= it->second.charge;
    Unlink(shard, &*it);
  }
  it->second.value = value;
  it->second.charge = charge;
  it->second.writing = false;
  it->second.fresh = false;
  shard.bytes += charge;
  LinkNewest(shard, &*it);
  Evict(shard);
}

void CounterCache::Evict(Shard& shard) {
  while (shard.bytes > shard_capacity_) {
    Map::value_type* victim = shard.oldest;
    // Without its mark a reader that missed during the write could fill the
    // old value: every outstanding ticket of the shard becomes void instead.
    if (victim->second.writing) ++shard.epoch;
    Remove(shard, shard.map.find(victim->first));
  }
}

void CounterCache::Remove(Shard& shard, Map::iterator it) {
  Unlink(shard, &*it);
  shard.bytes -= it->second.charge;
  shard.map.erase(it);
}

void CounterCache::Unlink(Shard& shard, Map::value_type* node) {
  Entry& entry = node->second;
  if (entry.newer != nullptr) {
    entry.newer->second.older = entry.older;
  } else {
    shard.newest = entry.older;
  }
  if (entry.older != nullptr) {
    entry.older->second.newer = entry.newer;
  } else {
    shard.oldest = entry.newer;
  }
  entry.newer = entry.older = nullptr;
}

void CounterCache::LinkNewest(Shard& shard, Map::value_type* node) {
  Entry& entry = node->second;
  entry.older = shard.newest;
  entry.newer = nullptr;
  if (shard.newest != nullptr) shard.newest->second.newer = node;
  shard.newest = node;
  if (shard.oldest == nullptr) shard.oldest = node;
}

}  // namespace tally::storage
