// The one commit path. Every write of the keyspace ends here: an operation
// alone, an I/O thread's write group, a transaction, the reaper.
//
// Order, under the locks of every key in the set (held by the caller):
//  1. one WriteBatch: each key's final value (or its deletion), the expiry
//     index moved from the key's expiry before the set to its expiry after,
//     and the count changes (FLUSH: range deletions first, counts reset);
//  2. the keys are marked in the counter cache, so no reader takes a cached
//     value of them until step 4 (readers go to RocksDB meanwhile, whose
//     batch is atomic);
//  3. DB::Write: the WAL append and the memtable insert;
//  4. on success the in-memory counts, the cache (new values replace the
//     marks) and the write observer (WATCH); on failure the marks are
//     dropped and the disk is marked failing: nothing was applied.
// So a reader sees all of a commit or none of it, however many keys it
// holds, from the cache and from RocksDB alike.
//
// Durability: the write is in the WAL file (not yet fsynced) when Commit
// returns. In kAlways mode callers hold their replies until the WalSyncer
// has synced past it. A cached value is one whose DB::Write has returned, and
// RocksDB publishes a write's sequence number before Write returns; so every
// value a reply shows from the cache has a sequence number <= the
// VisibleSequence the connection reads afterwards, and the reply waits for
// its fsync exactly as it would have had it read RocksDB.
#include <memory>

#include <rocksdb/iterator.h>
#include <rocksdb/write_batch.h>

#include "storage/keyspace_impl.h"
#include "storage/layout.h"

namespace tally::storage {

Status Keyspace::Impl::Commit(WriteSet& set, bool observed) {
  if (set.empty()) return Status();
  struct Cleared {
    WriteSet& set;
    ~Cleared() { set.Clear(); }
  } cleared{set};

  rocksdb::WriteBatch batch;
  rocksdb::Status appended;
  auto track = [&appended](const rocksdb::Status& status) {
    if (appended.ok()) appended = status;
  };
  if (set.reset()) track(AppendDeleteAll(&batch));
  for (const auto& [key, write] : set.writes()) {
    const int64_t before = write.was_present ? write.was_expire_at_ms : 0;
    const int64_t after = write.value ? write.value->expire_at_ms : 0;
    if (before != 0 && before != after) {
      track(batch.Delete(expiry, layout::ExpiryIndexKey(before, key)));
    }
    if (after != 0 && after != before) {
      track(batch.Put(expiry, layout::ExpiryIndexKey(after, key), {}));
    }
    if (write.value) {
      track(batch.Put(data, key, EncodeValue(*write.value)));
    } else if (write.was_present) {
      track(batch.Delete(data, key));
    }
  }
  // After a reset the caller holds every key, so the counts cannot move
  // until the commit is published: the new counts are set, not added.
  const int64_t keys_after = set.reset() ? key_count.load() + set.key_delta() : 0;
  const int64_t expiring_after = set.reset() ? expiring_count.load() + set.expiring_delta() : 0;
  if (set.reset()) {
    // The range deletions removed the stored counts' meaning: store them.
    track(batch.Put(meta, layout::kKeyCountKey, layout::EncodeInt64(keys_after)));
    track(batch.Put(meta, layout::kExpiringCountKey, layout::EncodeInt64(expiring_after)));
  } else {
    if (set.key_delta() != 0) {
      track(batch.Merge(meta, layout::kKeyCountKey, layout::EncodeInt64(set.key_delta())));
    }
    if (set.expiring_delta() != 0) {
      track(
          batch.Merge(meta, layout::kExpiringCountKey, layout::EncodeInt64(set.expiring_delta())));
    }
  }
  if (!appended.ok()) return IoError(appended);
  if (batch.Count() == 0) return Status();  // e.g. a key set and deleted again
  if (Status writable = disk.CheckWritable(); !writable.ok()) return writable;

  if (set.reset()) cache->BeginClear();
  for (const auto& [key, write] : set.writes()) cache->BeginWrite(key);
  const rocksdb::Status written = db->Write(write_options, &batch);
  if (!written.ok()) {
    if (set.reset()) cache->Clear();
    for (const auto& [key, write] : set.writes()) cache->Erase(key);
    return disk.Failed(written.ToString());
  }
  // Other commits change other keys' counts concurrently: add, unless this
  // one is a reset.
  if (set.reset()) {
    key_count = keys_after;
    expiring_count = expiring_after;
  } else {
    key_count += set.key_delta();
    expiring_count += set.expiring_delta();
  }
  if (set.reset()) cache->Clear();
  for (const auto& [key, write] : set.writes()) {
    if (!write.value) {
      cache->Erase(key);
    } else if (write.cacheable) {
      cache->Put(key, *write.value);
    } else {
      cache->Update(key, *write.value);
    }
    if (observed && write_observer) write_observer(key);
  }
  return Status();
}

rocksdb::Status Keyspace::Impl::AppendDeleteAll(rocksdb::WriteBatch* batch) {
  // Up to just past the last key of the data and of the index. The caller
  // holds every stripe, so no key can appear beyond them meanwhile.
  for (rocksdb::ColumnFamilyHandle* family : {data, expiry}) {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), family));
    it->SeekToLast();
    if (!it->status().ok()) return it->status();
    if (!it->Valid()) continue;
    std::string end = it->key().ToString();
    end.push_back('\0');  // DeleteRange's end is exclusive.
    rocksdb::Status status = batch->DeleteRange(family, rocksdb::Slice(), end);
    if (!status.ok()) return status;
  }
  for (std::string_view count : {layout::kKeyCountKey, layout::kExpiringCountKey}) {
    rocksdb::Status status = batch->Put(meta, count, layout::EncodeInt64(0));
    if (!status.ok()) return status;
  }
  return rocksdb::Status::OK();
}

}  // namespace tally::storage
