// One keyspace operation's locks and writes. Every write of the keyspace
// goes through an Operation: it locks the keys, the operation reads and
// decides under the locks, and its writes go into a WriteSet that the one
// commit path (Keyspace::Impl::Commit) writes. Where the writes go, and how
// the locks are held, depends on where the calling thread is:
//
//  - alone: the operation locks its keys' stripes in ascending order, and
//    its Commit commits its own WriteSet before the locks go;
//  - in a write group (Keyspace::GroupScope): the group takes the stripes
//    and keeps them until the group commits; the writes join the group's
//    WriteSet, committed with every other write of the I/O thread's turn;
//  - in a transaction (Keyspace::Atomically): the transaction locked its
//    keys before the body ran; a write of a key it did not lock fails (it
//    could deadlock otherwise), and the writes join the transaction's set.
#pragma once

#include <boost/container/small_vector.hpp>
#include <optional>
#include <string_view>
#include <vector>

#include "storage/key_locks.h"
#include "storage/keyspace_impl.h"
#include "storage/write_set.h"

namespace tally::storage {

class Operation {
 public:
  // `observed`: tell the write observer of each key written; false for the
  // reaper, whose removals of expired keys are no news to a watcher.
  explicit Operation(Keyspace::Impl* impl, bool observed = true);
  Operation(const Operation&) = delete;
  Operation& operator=(const Operation&) = delete;

  Status Lock(std::string_view key);
  Status Lock(const std::vector<std::string_view>& keys);
  // Every stripe (FLUSH). A group cannot take them all without waiting, so
  // in a group the thread's group commits first and the operation runs alone.
  Status LockAll();
  // The read half of every single-key read-modify-write: lock the key, then
  // read what it holds (stored in *now: the time the reading used).
  Status LockAndLoad(std::string_view key, Slot* slot, int64_t* now = nullptr);
  // Reads of keys this operation has locked, through its WriteSet.
  Status LoadMany(const std::vector<std::string_view>& keys, int64_t now, std::vector<Slot>* slots);

  // Stores `next` over what `current` says `key` holds. `key` must stay
  // valid until Commit.
  void Put(std::string_view key, const Slot& current, StoredValue next);
  // Removes `key` if anything (even an expired value) is stored under it.
  void Delete(std::string_view key, const Slot& current);
  // Removes every key (FLUSH); needs LockAll.
  void DeleteAll();

  // Hands the writes to the WriteSet: alone, commits it (Ok means applied,
  // anything else that nothing was); in a group or a transaction, they are
  // pending until that commits.
  Status Commit();

 private:
  struct Write {
    std::string_view key;
    bool was_present;
    int64_t was_expire_at_ms;
    std::optional<StoredValue> next;
  };
  Status CheckCovered(std::string_view key);

  Keyspace::Impl* impl_;
  const bool observed_;
  Transaction* transaction_;  // nullptr: outside Atomically
  WriteGroup* group_;         // non-null: in a GroupScope (never with a transaction)
  WriteSet own_;              // an operation alone commits this
  WriteSet* set_;
  KeyLocks::Guard guard_;  // alone: released when the Operation goes, after Commit
  bool delete_all_ = false;
  // Most operations write one key: no allocation for the list then.
  boost::container::small_vector<Write, 1> writes_;
};

}  // namespace tally::storage
