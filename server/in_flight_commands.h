// Lets WATCH wait for every keyspace command already running. The dispatcher
// marks a write's keys dirty for their watchers before it runs, but skips
// that entirely while nobody watches anything; a write that made that check
// just before a WATCH registered its keys must therefore be over (and its
// effect visible) before the watching client reads them. WATCH calls
// WaitForAll() after registering for exactly that.
//
// Each running command holds a Scope: it locks one of a fixed set of mutexes
// picked per thread (a "big reader" lock), so commands on different I/O
// threads never contend on one cache line. WaitForAll() locks and releases
// them all, in order.
#pragma once

#include <array>
#include <cstddef>
#include <mutex>

#include "storage/keyspace.h"

namespace tally::server {

class InFlightCommands {
 public:
  static constexpr size_t kSlots = 32;

  // Held while a command that reads or writes keys runs (EXEC included).
  // Not reentrant: a thread holding a Scope must not take another one or
  // call WaitForAll().
  class Scope {
   public:
    explicit Scope(InFlightCommands& commands);
    // The same for a thread that may hold a write group in `keyspace`
    // (Keyspace::GroupScope): if it must wait for its slot, it commits the
    // group first. The waiter is a WATCH, which may itself be waiting for a
    // command blocked on that group's key locks.
    Scope(InFlightCommands& commands, storage::Keyspace& keyspace);
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    std::unique_lock<std::mutex> lock_;
  };

  // Returns once every Scope that existed when it was called has ended.
  void WaitForAll();

 private:
  struct alignas(64) Slot {
    std::mutex mu;
  };
  static size_t ThisThreadSlot();

  std::array<Slot, kSlots> slots_;
};

}  // namespace tally::server
