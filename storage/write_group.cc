#include "storage/write_group.h"

#include <memory>
#include <mutex>

namespace tally::storage {

Status WriteGroup::Acquire(std::span<const size_t> wanted) {
  if (Status writable = impl->disk.CheckWritable(); !writable.ok()) return writable;
  if (set.bytes() > kMaxGroupBytes) Commit();  // its result goes to the listener.
  for (size_t stripe : wanted) {
    if (stripes.TryAdd(stripe)) continue;
    Commit();
    // Holding nothing now, and taking them in ascending order: this cannot
    // deadlock with any other holder.
    for (size_t again : wanted) stripes.Add(again);
    break;
  }
  return Status();
}

Status WriteGroup::Commit() {
  if (!Pending()) return Status();
  const Status status = impl->Commit(set, /*observed=*/true);
  if (listener != nullptr) listener->OnGroupCommitted(status);
  stripes.ReleaseAll();
  return status;
}

Keyspace::GroupScope::GroupScope(Keyspace& keyspace, GroupListener& listener)
    : impl_(keyspace.impl_.get()) {
  WriteGroup* group = impl_->ThreadGroup();
  if (group == nullptr) group = impl_->NewThreadGroup();
  group->listener = &listener;
  group->in_scope = true;
}

Keyspace::GroupScope::~GroupScope() {
  if (WriteGroup* group = impl_->ThreadGroup()) group->in_scope = false;
}

Status Keyspace::CommitGroup() { return impl_->CommitThreadGroup(); }

bool Keyspace::GroupWanted() const {
  const WriteGroup* group = impl_->ThreadGroup();
  return group != nullptr && group->stripes.wanted();
}

bool Keyspace::GroupPending() const {
  const WriteGroup* group = impl_->ThreadGroup();
  return group != nullptr && group->Pending();
}

}  // namespace tally::storage
