// The connected clients as other connections see them: CLIENT LIST and
// CLIENT INFO read these records, CLIENT KILL closes through them. A record is
// written by its own connection's thread and read from any thread, so its
// changing fields are atomics or sit behind its mutex.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace tally::server {

struct CommandSpec;

class ClientRecord {
 public:
  // Fixed once the connection registers the record.
  uint64_t id = 0;
  std::string addr;   // peer "ip:port"
  std::string laddr;  // local "ip:port"
  int fd = -1;
  int64_t created_ms = 0;  // MonotonicMs() at connect
  // Closes the connection once its pending replies are sent. Any thread.
  std::function<void()> kill;
  // Makes the connection apply the settings it caches (CONFIG SET changed
  // some). Any thread.
  std::function<void()> config_changed;

  std::atomic<int64_t> last_active_ms{0};
  std::atomic<const CommandSpec*> last_command{nullptr};
  std::atomic<int> resp{2};
  std::atomic<int> multi_queued{-1};  // commands queued by MULTI; -1 outside MULTI
  std::atomic<bool> no_evict{false};
  std::atomic<bool> no_touch{false};

  std::string name() const;
  std::string lib_name() const;
  std::string lib_ver() const;
  std::string user() const;  // the authenticated user's name
  void set_name(std::string name);
  void set_lib_name(std::string value);
  void set_lib_ver(std::string value);
  void set_user(std::string value);

  // The line CLIENT LIST and CLIENT INFO show, in Redis 7.2's field order,
  // ending in "\n".
  std::string Describe(int64_t now_ms) const;

 private:
  mutable std::mutex mu_;
  std::string name_;
  std::string lib_name_;
  std::string lib_ver_;
  std::string user_ = "default";
};

class ClientRegistry {
 public:
  void Add(std::shared_ptr<ClientRecord> record);
  void Remove(uint64_t id);
  // Every registered client, by ascending id (connection order).
  std::vector<std::shared_ptr<ClientRecord>> Snapshot() const;

 private:
  mutable std::mutex mu_;
  std::map<uint64_t, std::shared_ptr<ClientRecord>> clients_;
};

// Milliseconds of a monotonic clock cheap enough to read on every command
// (CLOCK_MONOTONIC_COARSE: a few milliseconds of resolution is plenty for
// CLIENT LIST's age and idle).
int64_t MonotonicMs();

}  // namespace tally::server
