#include "server/command_stats.h"

#include <functional>

#include "server/command_table.h"

namespace tally::server {
namespace {

// This thread's shard: threads take shards in the order they first record.
size_t ThisThreadShard(size_t shards) {
  static std::atomic<size_t> next{0};
  thread_local const size_t shard = next.fetch_add(1, std::memory_order_relaxed);
  return shard % shards;
}

}  // namespace

CommandStats::CommandStats() : first_(AllCommands().data()), command_count_(AllCommands().size()) {
  for (auto& shard : shards_) {
    shard.slots = std::make_unique<std::atomic<Counters*>[]>(command_count_);
    for (size_t i = 0; i < command_count_; ++i) shard.slots[i] = nullptr;
  }
}

CommandStats::~CommandStats() {
  for (auto& shard : shards_) {
    for (size_t i = 0; i < command_count_; ++i) delete shard.slots[i].load();
  }
}

CommandStats::Counters* CommandStats::Slot(const CommandSpec& spec) {
  std::less<const CommandSpec*> before;
  if (before(&spec, first_) || !before(&spec, first_ + command_count_)) return nullptr;
  auto& slot = shards_[ThisThreadShard(kShards)].slots[static_cast<size_t>(&spec - first_)];
  Counters* counters = slot.load(std::memory_order_acquire);
  if (counters != nullptr) return counters;
  // First call of this command on this shard. Another thread sharing the
  // shard may race us here: one allocation wins, the other is dropped.
  auto fresh = std::make_unique<Counters>();
  if (slot.compare_exchange_strong(counters, fresh.get(), std::memory_order_acq_rel)) {
    return fresh.release();
  }
  return counters;
}

void CommandStats::RecordCall(const CommandSpec& spec, uint64_t ns, bool failed) {
  Counters* counters = Slot(spec);
  if (counters == nullptr) return;
  counters->latency_ns.Record(ns);
  if (failed) counters->failed.fetch_add(1, std::memory_order_relaxed);
}

void CommandStats::RecordRejected(const CommandSpec& spec) {
  Counters* counters = Slot(spec);
  if (counters != nullptr) counters->rejected.fetch_add(1, std::memory_order_relaxed);
}

std::vector<CommandTotals> CommandStats::Collect() const {
  std::vector<CommandTotals> out;
  for (size_t i = 0; i < command_count_; ++i) {
    CommandTotals totals;
    totals.spec = first_ + i;
    bool seen = false;
    for (const auto& shard : shards_) {
      const Counters* counters = shard.slots[i].load(std::memory_order_acquire);
      if (counters == nullptr) continue;
      seen = true;
      counters->latency_ns.AddTo(&totals.latency_ns);
      totals.rejected += counters->rejected.load(std::memory_order_relaxed);
      totals.failed += counters->failed.load(std::memory_order_relaxed);
    }
    // As Redis, a command shows once it was called, rejected or failed.
    if (seen && (totals.calls() > 0 || totals.rejected > 0 || totals.failed > 0)) {
      out.push_back(std::move(totals));
    }
  }
  return out;
}

uint64_t CommandStats::TotalCalls() const {
  uint64_t total = 0;
  for (const auto& totals : Collect()) total += totals.calls();
  return total;
}

void CommandStats::Reset() {
  for (auto& shard : shards_) {
    for (size_t i = 0; i < command_count_; ++i) {
      Counters* counters = shard.slots[i].load(std::memory_order_acquire);
      if (counters == nullptr) continue;
      counters->latency_ns.Reset();
      counters->rejected.store(0, std::memory_order_relaxed);
      counters->failed.store(0, std::memory_order_relaxed);
    }
  }
}

}  // namespace tally::server
