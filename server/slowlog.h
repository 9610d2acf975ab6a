// The slow log (SLOWLOG GET/LEN/RESET): the most recent commands that ran
// for at least slowlog-log-slower-than microseconds, newest first, at most
// slowlog-max-len of them, each stored as Redis 7 stores it (arguments
// trimmed, passwords redacted). Deciding whether a command is slow is one
// relaxed atomic load; only slow commands take the lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace tally::server {

struct CommandSpec;
class ClientRecord;

struct SlowLogEntry {
  uint64_t id = 0;                // increases by one per entry, never reused
  int64_t unix_seconds = 0;       // when the command finished
  int64_t duration_us = 0;        // how long it ran
  std::vector<std::string> args;  // as logged: see SlowLog::Add
  std::string client_addr;        // "ip:port"; empty for REST requests
  std::string client_name;
};

class SlowLog {
 public:
  // slowlog-log-slower-than (microseconds; negative: log nothing, 0: log
  // every command) and slowlog-max-len. Takes effect for the next command.
  void Configure(int64_t log_slower_than_us, int64_t max_len);

  // Whether a command that ran `duration_us` belongs in the log.
  bool IsSlow(int64_t duration_us) const {
    const int64_t threshold = threshold_us_.load(std::memory_order_relaxed);
    return threshold >= 0 && duration_us >= threshold;
  }

  // Logs a call of `spec` with `args` (args[0] is the name as sent). As
  // Redis: at most 32 arguments are kept (the last slot then says "... (N
  // more arguments)"), an argument longer than 128 bytes keeps its first 128
  // followed by "... (N more bytes)", and the passwords of AUTH and HELLO
  // ... AUTH are replaced by "(redacted)". Drops the oldest entries beyond
  // slowlog-max-len.
  void Add(const CommandSpec& spec, const std::vector<std::string>& args, int64_t duration_us,
           const ClientRecord* client);

  // The newest `count` entries, newest first (all of them if count < 0).
  std::vector<SlowLogEntry> Newest(int64_t count) const;
  size_t Length() const;
  // Empties the log; entry ids keep counting.
  void Reset();

 private:
  std::atomic<int64_t> threshold_us_{10000};
  mutable std::mutex mu_;
  size_t max_len_ = 128;              // guarded by mu_
  uint64_t next_id_ = 0;              // guarded by mu_
  std::deque<SlowLogEntry> entries_;  // guarded by mu_; newest first
};

}  // namespace tally::server
