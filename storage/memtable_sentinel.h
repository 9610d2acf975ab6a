// A guard against a RocksDB 7.8 recovery bug; see the class comment.
#pragma once

#include <atomic>

#include <rocksdb/db.h>
#include <rocksdb/listener.h>

#include "storage/layout.h"
#include "storage/wal_syncer.h"

namespace tally::storage {

// RocksDB 7.8 cannot recover from a failed WAL append when every memtable
// is empty: its recovery flush then switches no memtable, so no new WAL is
// opened and the next write or sync hits the failed log writer (an assertion
// in Debian's build, else a permanent "Writer has previous error"). So the
// meta family's memtable is never left empty: after each of its flushes a
// sentinel entry is put back, without the WAL (it is never needed after a
// crash). With it, a recovery flush always switches to a fresh WAL.
class KeepMemtableNonEmpty : public rocksdb::EventListener {
 public:
  const char* Name() const override { return "KeepMemtableNonEmpty"; }
  void OnFlushCompleted(rocksdb::DB* db, const rocksdb::FlushJobInfo& info) override {
    if (info.cf_name == layout::kMetaFamily) Refill(db);
  }
  // Once the family's handle and the syncer exist (after DB::Open).
  void Start(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* meta, WalSyncer* syncer) {
    syncer_.store(syncer);
    meta_.store(meta);
    Refill(db);
  }
  void Stop() { meta_.store(nullptr); }

  // Puts the sentinel (back). The listener does so after every flush of the
  // meta family, but only some time after the flush emptied the memtable;
  // callers that flush call this at once after, to close that window.
  void Refill(rocksdb::DB* db) {
    rocksdb::ColumnFamilyHandle* meta = meta_.load();
    if (meta == nullptr) return;
    rocksdb::WriteOptions unlogged;
    unlogged.disableWAL = true;
    const uint64_t before = db->GetLatestSequenceNumber();
    // A failure (the DB stopped after a disk error) leaves the memtable as it
    // was; the flush that empties it next puts the sentinel back.
    if (!db->Put(unlogged, meta, layout::kMemtableSentinelKey, {}).ok()) return;
    // The sentinel needs no fsync: replies must not wait for one for it.
    syncer_.load()->NoteUnloggedWrite(before, db->GetLatestSequenceNumber());
  }

 private:
  std::atomic<rocksdb::ColumnFamilyHandle*> meta_{nullptr};
  std::atomic<WalSyncer*> syncer_{nullptr};
};

}  // namespace tally::storage
