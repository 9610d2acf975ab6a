// A bounded in-memory copy of recently used keys' stored values, in front of
// RocksDB's data column family, so that GET and the read half of INCR skip
// RocksDB's memtable and table lookups.
//
// The contract with its owner (Keyspace) is one invariant: a key's entry
// either holds exactly what RocksDB stores for it (or that it stores nothing:
// a negative entry, so that GETs of missing keys skip RocksDB too), or marks
// the key as being written, which readers treat as a miss. A commit marks
// its keys (BeginWrite) before DB::Write and replaces the marks with the new
// values (Put, Update) or drops them (Erase) after it, while it still holds
// the keys' locks. So a reader never takes a value from the cache that
// RocksDB has already replaced: during the write it reads RocksDB itself,
// whose batch is atomic, and a reader that saw one key of a multi-key write
// new cannot see another one old (storage/commit.cc). Readers that miss may
// Fill the value they read from RocksDB, which the cache takes only if no
// write touched the key's shard since the miss (the ticket) and the key is
// not marked, so a slow reader can never put back a value a writer has
// replaced.
//
// Memory is bounded: each shard evicts its least recently used entries once
// the estimated bytes of its entries pass its share of the capacity. Values
// longer than kMaxValueBytes are never cached (Put erases instead).
//
// Thread-safe: sharded, one mutex per shard, held for a lookup or update only.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "storage/keyspace.h"
#include "storage/value_codec.h"

namespace tally::storage {

class CounterCache {
 public:
  static constexpr size_t kShards = 64;
  // Raw (non-integer) values longer than this are not cached: the cache is for
  // counters and short strings.
  static constexpr size_t kMaxValueBytes = 256;

  // capacity_bytes 0 disables the cache (every call is a miss or a no-op).
  explicit CounterCache(size_t capacity_bytes);
  CounterCache(const CounterCache&) = delete;
  CounterCache& operator=(const CounterCache&) = delete;

  // On a hit copies the entry into *value (nullopt: RocksDB holds nothing for
  // the key), marks it recently used and returns true. On a miss returns
  // false and sets *ticket for Fill.
  bool Lookup(std::string_view key, std::optional<StoredValue>* value, uint64_t* ticket);
  // Caches `value` (nullopt: absent), just read from RocksDB for `key` after
  // Lookup missed with `ticket`, unless the key's shard has been written
  // since (then the value may be stale and is dropped).
  void Fill(std::string_view key, const std::optional<StoredValue>& value, uint64_t ticket);
  // `key` is about to be written: until Put, Update or Erase, lookups miss
  // and fills are refused. The caller holds the key's lock.
  void BeginWrite(std::string_view key);
  // `key` now stores `value` in RocksDB (its write returned Ok). The caller
  // holds the key's lock.
  void Put(std::string_view key, const StoredValue& value);
  // The same, but only replaces an entry that is cached already: bulk writes
  // (MSET of many keys, a load) must not push hot counters out.
  void Update(std::string_view key, const StoredValue& value);
  // `key` is gone from RocksDB, or its write failed or went around the cache.
  void Erase(std::string_view key);
  // Every key is about to be written (FLUSHDB): until Clear, every lookup
  // misses and every fill is refused.
  void BeginClear();
  // Every key is gone (FLUSHDB), or the flush failed: an empty cache again.
  void Clear();

  // Totals over all shards (each read under its own lock).
  CounterCacheStats stats() const;

  // The bytes one entry is charged: its node, bucket and heap-allocated key
  // and value text (an estimate of what the allocator hands out).
  static size_t ChargeOf(std::string_view key, const std::optional<StoredValue>& value);

 private:
  struct Entry;
  // Transparent hashing, so lookups by string_view allocate nothing.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view key) const { return std::hash<std::string_view>{}(key); }
  };
  using Map = std::unordered_map<std::string, Entry, Hash, std::equal_to<>>;
  struct Entry {
    std::optional<StoredValue> value;
    size_t charge = 0;
    bool writing = false;  // BeginWrite marked it: not a value to serve.
    bool fresh = false;    // the mark was all there was: Update drops it.
    // Doubly linked LRU list through the map's nodes (which never move).
    Map::value_type* newer = nullptr;
    Map::value_type* older = nullptr;
  };
  struct alignas(64) Shard {
    mutable std::mutex mutex;
    Map map;
    Map::value_type* newest = nullptr;  // LRU list ends.
    Map::value_type* oldest = nullptr;
    size_t bytes = 0;
    uint64_t epoch = 0;     // bumped by every Put, Erase and Clear.
    bool clearing = false;  // between BeginClear and Clear.
    uint64_t hits = 0;
    uint64_t misses = 0;
  };

  Shard& ShardOf(std::string_view key);
  // All with the shard's mutex held.
  void Store(Shard& shard, std::string_view key, const std::optional<StoredValue>& value);
  void Remove(Shard& shard, Map::iterator it);
  // Drops the least recently used entries until the shard fits its share.
  void Evict(Shard& shard);
  void Unlink(Shard& shard, Map::value_type* node);
  void LinkNewest(Shard& shard, Map::value_type* node);

  const size_t capacity_bytes_;
  const size_t shard_capacity_;
  std::array<Shard, kShards> shards_;
};

}  // namespace tally::storage
