// WATCH bookkeeping: which clients watch which keys, and a dirty flag per
// client that writes to those keys raise. The keyspace reports each key a
// write really changes while the key is still locked (Keyspace::
// SetWriteObserver), and the registry is consulted only when somebody
// watches anything (one atomic load), so clients that never use WATCH pay
// nothing. EXEC checks the flag after locking the watched keys, so no write
// can slip between the check and the transaction.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tally::server {

class WatchRegistry;

// One client's watched keys. Lives in the client's state; it unregisters
// itself when the client goes away.
class Watcher {
 public:
  Watcher() = default;
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;
  ~Watcher() { UnwatchAll(); }

  // Starts watching `key`; false if it was watched already (which changes
  // nothing).
  bool Watch(WatchRegistry& registry, std::string_view key);
  // Notes the absolute expiry `key` had when it was watched (-1 none, -2
  // missing): a key that expires while watched fails EXEC, as in Redis.
  void SetExpireAt(std::string_view key, int64_t expire_at_ms);
  void UnwatchAll();

  bool watching() const { return !keys_.empty(); }
  std::vector<std::string_view> keys() const;
  // Whether EXEC must fail at time `now_ms`: a watched key was written, or
  // expired since it was watched.
  bool Dirty(int64_t now_ms) const;
  // Raised by writers.
  bool touched() const { return dirty_.load(std::memory_order_acquire); }

 private:
  friend class WatchRegistry;
  struct WatchedKey {
    std::string key;
    int64_t expire_at_ms;
  };
  WatchRegistry* registry_ = nullptr;
  std::vector<WatchedKey> keys_;
  std::atomic<bool> dirty_{false};
};

class WatchRegistry {
 public:
  // True when no client watches any key: writers then skip the registry.
  bool empty() const { return watched_.load(std::memory_order_acquire) == 0; }

  // Marks every client watching one of `keys` dirty.
  void Touch(const std::vector<std::string_view>& keys);
  void TouchKey(std::string_view key);
  // Every key some client watches.
  std::vector<std::string> WatchedKeys() const;

 private:
  friend class Watcher;
  // Returns false if `watcher` already watched `key`.
  bool Add(Watcher* watcher, std::string_view key);
  void Remove(Watcher* watcher, std::string_view key);
  void TouchLocked(std::string_view key);  // with mu_ held

  mutable std::mutex mu_;
  std::unordered_map<std::string, std::vector<Watcher*>> watchers_;  // key -> watchers
  std::atomic<size_t> watched_{0};                                   // (key, watcher) pairs
};

}  // namespace tally::server
