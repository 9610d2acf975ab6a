#include "server/in_flight_commands.h"

#include <atomic>

namespace tally::server {

size_t InFlightCommands::ThisThreadSlot() {
  // Threads take slots round-robin on first use; two threads sharing a slot
  // only contend with each other.
  static std::atomic<size_t> next{0};
  thread_local const size_t slot = next.fetch_add(1, std::memory_order_relaxed) % kSlots;
  return slot;
}

InFlightCommands::Scope::Scope(InFlightCommands& commands)
    : lock_(commands.slots_[ThisThreadSlot()].mu) {}

InFlightCommands::Scope::Scope(InFlightCommands& commands, storage::Keyspace& keyspace)
    : lock_(commands.slots_[ThisThreadSlot()].mu, std::try_to_lock) {
  if (lock_.owns_lock()) return;
  keyspace.CommitGroup();
  lock_.lock();
}

void InFlightCommands::WaitForAll() {
  // Always in index order, so two waiters cannot deadlock.
  for (auto& slot : slots_) slot.mu.lock();
  for (auto it = slots_.rbegin(); it != slots_.rend(); ++it) it->mu.unlock();
}

}  // namespace tally::server
