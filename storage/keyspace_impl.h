// The keyspace's internal state, shared by the files that implement it:
//
//   commit.cc         the one commit path: a WriteSet to RocksDB, the counts,
//                     the counter cache and the write observer
//   operation.h/.cc   how an operation locks its keys and records its writes,
//                     alone, in a write group or in a transaction
//   reads.cc          point reads through a WriteSet, the cache and RocksDB
//   string_ops.cc     counters and strings; key_ops.cc  DEL, EXPIRE, FLUSH
//   scan.cc           KEYS, SCAN and their cursors
//   write_group.cc    group commit; transaction.h  a MULTI/EXEC's state
//   thread_context.cc which transaction or group the calling thread is in,
//                     and Atomically
//   scan_cursors.cc   where SCAN iterations stand
//   reaper.cc, disk_health.cc, checkpoints.cc   the background jobs, each a
//                     class that owns its thread
//   open.cc           opening RocksDB, statistics, closing
//
// Column families:
//   default  the data: user key bytes as-is -> value (format in value_codec.h).
//   expiry   the expiry index: big-endian expire_at_ms + user key -> empty.
//   meta     bookkeeping: key count, expiring-key count, SCAN cursor states
//            and the last cursor id (layout.h).
//
// Every commit is one WriteBatch that changes the data, the expiry index and
// the counts together, so this invariant survives crashes: an index entry
// (t, key) exists iff the data holds key with expiry t. The counts are Merge
// operands adding int64 deltas, loaded at Open and mirrored in atomics, so
// start-up never scans the keys and DBSIZE is O(1).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>

#include "storage/checkpoints.h"
#include "storage/counter_cache.h"
#include "storage/disk_health.h"
#include "storage/key_locks.h"
#include "storage/keyspace.h"
#include "storage/reaper.h"
#include "storage/scan_cursors.h"
#include "storage/write_set.h"

namespace tally::storage {

struct Transaction;
struct WriteGroup;
class KeepMemtableNonEmpty;

Status IoError(const rocksdb::Status& status);
KeyType KeyTypeOf(ValueType type);

struct Keyspace::Impl {
  Impl();
  ~Impl();

  // Milliseconds since the epoch; frozen inside a transaction.
  int64_t Now() const;
  // The transaction this thread is running on this keyspace, if any.
  Transaction* ActiveTransaction() const;
  // The calling thread's write group on this keyspace, if it has one.
  WriteGroup* ThreadGroup() const;
  // The same while the thread is inside a GroupScope and no transaction.
  WriteGroup* ScopedGroup() const;
  // The WriteSet this thread's operations write into and read through: its
  // transaction's, else its scoped group's; nullptr for an operation alone.
  WriteSet* ActiveSet() const;
  // Creates the calling thread's group (GroupScope).
  WriteGroup* NewThreadGroup();
  // Commits the calling thread's group if it has a pending one.
  Status CommitThreadGroup();

  // THE commit path (commit.cc): writes `set` in one batch and publishes it
  // (counts, counter cache, write observer) under the locks the caller
  // holds on every key of the set (all of them after a Reset). Ok means all
  // of it was applied, anything else that none was. Empties the set.
  // `observed`: tell the write observer (false for the reaper, whose
  // removals of expired keys are no news to a watcher).
  Status Commit(WriteSet& set, bool observed);

  // Point reads (reads.cc). `set` (nullable) is the WriteSet the read sees
  // through. The rest comes from the counter cache, then RocksDB.
  Status Load(const WriteSet* set, std::string_view key, int64_t now, Slot* slot);
  // `keys_locked`: the caller holds the keys' locks, so their values cannot
  // change between the reads and the counter cache may serve some of them;
  // otherwise all come from one RocksDB MultiGet (a consistent snapshot).
  Status LoadMany(const WriteSet* set, const std::vector<std::string_view>& keys, int64_t now,
                  bool keys_locked, std::vector<Slot>* slots);
  // A consistent view of several keys for MGET and EXISTS: with their stripes
  // locked (held in *guard until the caller is done) if that needs no wait,
  // so the counter cache can serve them; else one MultiGet snapshot.
  Status LoadManyConsistent(const std::vector<std::string_view>& keys, int64_t now,
                            KeyLocks::Guard* guard, std::vector<Slot>* slots);
  Status ReadMetaInt64(std::string_view key, int64_t* value);
  // Returns `status`, first abandoning the active transaction if it is an
  // I/O error: a transaction that met one writes nothing.
  Status Noted(Status status);

  // MSET and MSETNX (string_ops.cc).
  Status SetMany(const std::vector<std::pair<std::string_view, std::string_view>>& pairs,
                 bool only_if_none_exist, bool* applied);
  // Whether a data entry is a live key of `type` (nullopt: any) matching
  // `pattern` (scan.cc).
  Status Visible(std::string_view key, std::string_view encoded, std::string_view pattern,
                 std::optional<KeyType> type, int64_t now, bool* visible);
  // FLUSH's writes: range deletions over the data and the index.
  rocksdb::Status AppendDeleteAll(rocksdb::WriteBatch* batch);

  OpenOptions options;
  // Never synced inline: the WalSyncer does it (group commit).
  rocksdb::WriteOptions write_options;
  rocksdb::DBOptions db_options;  // as opened
  rocksdb::DB* db = nullptr;
  rocksdb::ColumnFamilyHandle* data = nullptr;
  rocksdb::ColumnFamilyHandle* expiry = nullptr;
  rocksdb::ColumnFamilyHandle* meta = nullptr;

  std::unique_ptr<WalSyncer> syncer;
  // RocksDB opens its WAL files through the guard (wal_syncer.h); the
  // guarded env is the DB's, and outlives it (members go after ~Impl's body).
  std::shared_ptr<WalGuard> wal_guard;
  std::unique_ptr<rocksdb::Env> guarded_env;
  std::shared_ptr<rocksdb::Cache> block_cache;  // shared by every column family
  std::shared_ptr<KeepMemtableNonEmpty> sentinel;

  const uint64_t id;  // tells this keyspace's thread-local state from others'
  KeyLocks locks;
  std::mutex groups_mutex;
  std::vector<std::unique_ptr<WriteGroup>> groups;  // one per thread that opened a GroupScope
  std::unique_ptr<CounterCache> cache;              // see counter_cache.h
  Keyspace::WriteObserver write_observer;           // see Keyspace::SetWriteObserver
  std::atomic<int64_t> key_count{0};
  std::atomic<int64_t> expiring_count{0};

  ScanCursors cursors{*this};
  DiskHealth disk{*this};
  Checkpoints checkpoints{*this};
  Reaper reaper{*this};
};

// An iterator over one column family that stops before `upper_bound`
// (nullopt: at the end).
class BoundedIterator {
 public:
  BoundedIterator(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family,
                  std::optional<std::string> upper_bound);
  BoundedIterator(const BoundedIterator&) = delete;
  BoundedIterator& operator=(const BoundedIterator&) = delete;

  void Seek(std::string_view target) { it_->Seek(target); }
  void SeekToFirst() { it_->SeekToFirst(); }
  void SeekToLast() { it_->SeekToLast(); }
  void Next() { it_->Next(); }
  bool Valid() const { return it_->Valid(); }
  std::string_view key() const { return it_->key().ToStringView(); }
  std::string_view value() const { return it_->value().ToStringView(); }
  rocksdb::Status status() const { return it_->status(); }

 private:
  std::optional<std::string> upper_bound_;
  rocksdb::Slice upper_slice_;
  rocksdb::ReadOptions read_options_;  // RocksDB keeps pointers to it and to the bound.
  std::unique_ptr<rocksdb::Iterator> it_;
};

}  // namespace tally::storage
