// The pending writes of one commit: what every write of the keyspace
// becomes before it reaches RocksDB. A command alone, an I/O thread's write
// group (many commands of many clients) and a MULTI/EXEC transaction all
// collect their writes in a WriteSet, and Keyspace::Impl::Commit
// (storage/commit.cc) writes one, in one RocksDB batch, the only place that
// writes keys. They differ only in how they hold their keys' locks
// (storage/operation.h).
//
// A WriteSet keeps each key's final state (a hundred INCRs of one key in a
// pipeline are one Put) and what RocksDB held for the key before the set's
// first write of it, from which the commit works out the expiry index and
// the key counts. Operations read through it: a key the set has written
// reads as the set has it (read-your-writes within a pipeline or a
// transaction); other threads see nothing of it until the commit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "storage/value_codec.h"

namespace tally::storage {

// What the data column family holds for one key when it was read.
struct Slot {
  bool present = false;  // stored, possibly expired and not reaped yet.
  bool live = false;     // present and not expired: what commands see.
  StoredValue value;     // meaningful when present.
};

inline bool IsExpired(int64_t expire_at_ms, int64_t now_ms) {
  return expire_at_ms != 0 && expire_at_ms <= now_ms;
}

struct PendingWrite {
  std::optional<StoredValue> value;  // nullopt: deleted.
  // Written by an operation on this key alone, so worth caching; a write of
  // many keys (MSET, a bulk load) only refreshes keys cached already, so it
  // cannot push the hot counters out.
  bool cacheable = false;
  // What RocksDB held before the set's first write of the key (nothing
  // after Reset: the commit deletes every key first).
  bool was_present = false;
  int64_t was_expire_at_ms = 0;  // 0 if none or not present.
};

class WriteSet {
 public:
  // Ordered, so that KEYS and SCAN can merge it with RocksDB's order.
  using Map = std::map<std::string, PendingWrite, std::less<>>;

  bool empty() const { return writes_.empty() && !reset_; }
  // Past about this many bytes a write group commits before taking more.
  size_t bytes() const { return bytes_; }
  const Map& writes() const { return writes_; }
  // FLUSH ran: what RocksDB held is gone from the set's view, and the commit
  // deletes every key before writing the set's own.
  bool reset() const { return reset_; }

  // The set's own write of `key`, or nullptr if it has none.
  const PendingWrite* Find(std::string_view key) const {
    auto it = writes_.find(key);
    return it == writes_.end() ? nullptr : &it->second;
  }

  // `key`, which held a value (`was_present`, with expiry `was_expire_at_ms`)
  // as seen through this set, now holds `next` (nullopt: deleted).
  void Record(std::string_view key, bool was_present, int64_t was_expire_at_ms,
              std::optional<StoredValue> next, bool cacheable) {
    const int64_t was_expiring = was_present && was_expire_at_ms != 0 ? 1 : 0;
    key_delta_ += (next ? 1 : 0) - (was_present ? 1 : 0);
    expiring_delta_ += (next && next->expire_at_ms != 0 ? 1 : 0) - was_expiring;
    bytes_ += key.size() + (next ? next->raw.size() : 0) + 64;
    auto it = writes_.find(key);
    if (it == writes_.end()) {
      // The set's first write of the key: what it saw is what RocksDB holds.
      PendingWrite write{std::move(next), cacheable, was_present,
                         was_present ? was_expire_at_ms : 0};
      writes_.emplace(std::string(key), std::move(write));
      return;
    }
    it->second.value = std::move(next);
    it->second.cacheable = cacheable;
  }

  // FLUSH: every key is gone. `stored_keys`/`stored_expiring` are the
  // committed counts, so the set's deltas bring the visible counts to zero.
  void Reset(int64_t stored_keys, int64_t stored_expiring) {
    writes_.clear();
    reset_ = true;
    key_delta_ = -stored_keys;
    expiring_delta_ = -stored_expiring;
    bytes_ = 0;
  }

  // Changes of the key counts (DBSIZE) the set makes when committed.
  int64_t key_delta() const { return key_delta_; }
  int64_t expiring_delta() const { return expiring_delta_; }

  void Clear() {
    writes_.clear();
    reset_ = false;
    key_delta_ = 0;
    expiring_delta_ = 0;
    bytes_ = 0;
  }

 private:
  Map writes_;
  bool reset_ = false;
  int64_t key_delta_ = 0;
  int64_t expiring_delta_ = 0;
  size_t bytes_ = 0;
};

}  // namespace tally::storage
