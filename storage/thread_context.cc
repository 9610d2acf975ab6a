// Which context the calling thread's operations run in: a transaction
// (Keyspace::Atomically) or a write group (Keyspace::GroupScope), found
// through thread-local slots, or neither (each operation alone).
#include <chrono>
#include <memory>
#include <mutex>

#include "storage/keyspace_impl.h"
#include "storage/transaction.h"
#include "storage/write_group.h"

namespace tally::storage {
namespace {

thread_local Transaction* active_transaction = nullptr;

struct ThreadGroupSlot {
  uint64_t keyspace_id = 0;  // Keyspace::Impl::id of the group's keyspace.
  WriteGroup* group = nullptr;
};
thread_local ThreadGroupSlot thread_group_slot;
std::atomic<uint64_t> next_keyspace_id{1};

}  // namespace

Keyspace::Impl::Impl() : id(next_keyspace_id.fetch_add(1)) {}

int64_t Keyspace::Impl::Now() const {
  if (const Transaction* transaction = ActiveTransaction()) return transaction->now_ms;
  if (options.clock) return options.clock();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Transaction* Keyspace::Impl::ActiveTransaction() const {
  Transaction* transaction = active_transaction;
  return transaction != nullptr && transaction->impl == this ? transaction : nullptr;
}

WriteGroup* Keyspace::Impl::ThreadGroup() const {
  return thread_group_slot.keyspace_id == id ? thread_group_slot.group : nullptr;
}

WriteGroup* Keyspace::Impl::ScopedGroup() const {
  WriteGroup* group = ThreadGroup();
  return group != nullptr && group->in_scope && ActiveTransaction() == nullptr ? group : nullptr;
}

WriteSet* Keyspace::Impl::ActiveSet() const {
  if (Transaction* transaction = ActiveTransaction()) return &transaction->set;
  if (WriteGroup* group = ScopedGroup()) return &group->set;
  return nullptr;
}

WriteGroup* Keyspace::Impl::NewThreadGroup() {
  auto owned = std::make_unique<WriteGroup>(this);
  WriteGroup* group = owned.get();
  {
    std::lock_guard lock(groups_mutex);
    groups.push_back(std::move(owned));
  }
  thread_group_slot = ThreadGroupSlot{id, group};
  return group;
}

Status Keyspace::Impl::CommitThreadGroup() {
  WriteGroup* group = ThreadGroup();
  return group != nullptr ? group->Commit() : Status();
}

Status Keyspace::Impl::Noted(Status status) {
  if (status.code() == Code::kIoError) {
    if (Transaction* transaction = ActiveTransaction()) transaction->Fail(status);
  }
  return status;
}

Status Keyspace::Atomically(const std::vector<std::string_view>& keys, bool all_keys,
                            const std::function<void()>& body) {
  if (active_transaction != nullptr) {
    return Status(Code::kIoError, "Atomically cannot run inside another Atomically");
  }
  Impl& impl = *impl_;
  // The body's locks must not wait for this thread's own group.
  impl.CommitThreadGroup();
  // Sorted stripes, taken all at once before the body: the body never locks,
  // so two transactions (or a transaction and any other write) cannot
  // deadlock. Released only after the commit.
  KeyLocks::Guard guard = all_keys ? impl.locks.LockAll() : impl.locks.Lock(keys);
  Transaction transaction(&impl, keys, all_keys, impl.Now());
  {
    // Deactivated however the body ends; if it throws, nothing is written.
    struct Activation {
      explicit Activation(Transaction* transaction) { active_transaction = transaction; }
      ~Activation() { active_transaction = nullptr; }
    } activation(&transaction);
    body();
  }
  if (!transaction.failure.ok()) return transaction.failure;  // nothing written
  return impl.Commit(transaction.set, /*observed=*/true);
}

int64_t Keyspace::NowMs() const { return impl_->Now(); }

void Keyspace::SetWriteObserver(WriteObserver observer) {
  impl_->write_observer = std::move(observer);
}

}  // namespace tally::storage
