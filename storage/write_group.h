// A thread's write group (Keyspace::GroupScope): the writes of many
// operations waiting to go to RocksDB as one batch, their keys' stripes held
// until then. Owned by the keyspace; its thread finds it through a
// thread-local slot.
//
// Holding locks across operations rules out ordered locking, so a group
// never waits while it holds anything: it takes stripes with try_lock and,
// when another thread has one, commits first and then waits holding nothing
// (KeyLocks::HeldSet).
#pragma once

#include <cstddef>
#include <span>

#include "storage/keyspace_impl.h"
#include "storage/write_set.h"

namespace tally::storage {

struct WriteGroup {
  explicit WriteGroup(Keyspace::Impl* impl) : impl(impl), stripes(&impl->locks) {}

  // Holds stripes, and so possibly writes, not committed yet.
  bool Pending() const { return !stripes.empty(); }
  // Takes the stripes (ascending, distinct) of one more write. kDiskError
  // while the disk is failing. A stripe another thread holds makes the group
  // commit first (reported to the listener like any commit); only then, with
  // nothing held, does it wait.
  Status Acquire(std::span<const size_t> wanted);
  // Commits the set (Keyspace::Impl::Commit), tells the listener, and
  // releases every stripe.
  Status Commit();

  Keyspace::Impl* const impl;
  GroupListener* listener = nullptr;
  bool in_scope = false;
  KeyLocks::HeldSet stripes;
  WriteSet set;
};

// Past about this many bytes of writes a group commits before taking more.
inline constexpr size_t kMaxGroupBytes = 16u << 20;

}  // namespace tally::storage
