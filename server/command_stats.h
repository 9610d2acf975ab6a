// Per-command statistics for INFO commandstats / latencystats and the
// Prometheus exposition: calls, time spent, a latency histogram, and calls
// that were rejected before running or failed while running (Redis 7's
// rejected_calls and failed_calls). The dispatcher records into it; nothing
// else does.
//
// Recording is cheap enough for every command: each thread records into its
// own shard (threads are spread over a fixed number of shards), so a call
// costs two relaxed atomic additions on memory no other thread is writing,
// and no lock. Reading merges the shards; it is meant for INFO and scrapes.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "storage/histogram.h"

namespace tally::server {

struct CommandSpec;

// One command's totals, merged over the shards.
struct CommandTotals {
  const CommandSpec* spec = nullptr;
  storage::HistogramSnapshot latency_ns;  // one value per call, in nanoseconds
  uint64_t rejected = 0;
  uint64_t failed = 0;

  uint64_t calls() const { return latency_ns.Count(); }
};

class CommandStats {
 public:
  CommandStats();
  ~CommandStats();
  CommandStats(const CommandStats&) = delete;
  CommandStats& operator=(const CommandStats&) = delete;

  // A call of `spec` (a row of the command table) that ran for `ns`
  // nanoseconds; `failed` if it replied with an error. Thread-safe.
  void RecordCall(const CommandSpec& spec, uint64_t ns, bool failed);
  // A call of `spec` refused before it ran (arity, NOAUTH, MULTI rules).
  void RecordRejected(const CommandSpec& spec);

  // Every command that was called, rejected or failed since the start or the
  // last Reset, in command-table order.
  std::vector<CommandTotals> Collect() const;
  // Calls of all commands (INFO's total_commands_processed).
  uint64_t TotalCalls() const;
  // CONFIG RESETSTAT. Calls recorded concurrently may or may not survive.
  void Reset();

 private:
  struct Counters {
    storage::Histogram latency_ns;
    std::atomic<uint64_t> rejected{0};
    std::atomic<uint64_t> failed{0};
  };
  // Sized for the I/O threads of a big machine; threads beyond it share
  // shards, which stays correct (the counters are atomic), only slower.
  static constexpr size_t kShards = 16;
  struct Shard {
    // One slot per command-table row, allocated on the first call.
    std::unique_ptr<std::atomic<Counters*>[]> slots;
  };

  Counters* Slot(const CommandSpec& spec);

  const CommandSpec* first_;  // the command table's rows
  size_t command_count_;
  std::array<Shard, kShards> shards_;
};

}  // namespace tally::server
