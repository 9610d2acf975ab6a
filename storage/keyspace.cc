// The keyspace on RocksDB.
//
// Column families:
//   default  the data: user key bytes as-is -> value (format in value_codec.h).
//   expiry   the expiry index: big-endian expire_at_ms + user key -> empty.
//   meta     bookkeeping: key count, expiring-key count, SCAN cursor states
//            and the last cursor id (layout.h).
//
// Every write is one WriteBatch that changes the data, the expiry index and
// the counts together (class Mutation), so this invariant survives crashes:
// an index entry (t, key) exists iff the data holds key with expiry t. The
// counts are Merge operands adding int64 deltas, loaded at Open and mirrored
// in atomics, so start-up never scans the keys and DBSIZE is O(1).
//
// Durability: a write is in the WAL file (not yet fsynced) when its method
// returns. The WalSyncer owned here syncs on demand for WhenDurable (kAlways:
// group commit), once a second (kEverySec), or never (kNone).
//
// Read-modify-write operations hold striped key locks (key_locks.h) across
// their read and their write; plain reads take no lock.
//
// Expiry is lazy, as in Redis: every read and write treats a value whose
// expiry is <= NowMs() as missing (a write replaces it). A reaper thread
// deletes expired keys physically by reading the expiry index from its
// front, locking and re-checking each key. We deliberately do not expire in a
// compaction filter: a filter could drop a value while its index entry and
// its share of the counts stayed, and DBSIZE would drift.
//
// Transactions (Atomically, for MULTI/EXEC): the calling thread finds its
// Transaction through a thread-local pointer, so the operations need no extra
// parameter and keep one code path. Inside one, Mutation writes into the
// transaction's WriteBatchWithIndex instead of the DB and takes no locks (the
// transaction holds them), reads go through that batch (read-your-writes),
// and the count changes wait in the transaction until its single db->Write
// has succeeded. FLUSH cannot put its DeleteRange into a WriteBatchWithIndex:
// inside a transaction it empties the batch, hides the DB from later reads,
// and the commit writes the range deletions first, then the body's writes.
//
// Group commit (Keyspace::GroupScope): an I/O thread's writes collect in
// its WriteGroup, the latest value of each key written, whose stripes stay
// held until the group commits. Holding locks across operations rules out
// ordered locking, so a group never waits while it holds anything: it takes
// stripes with try_lock and, when another thread has one, commits first and
// then waits holding nothing (KeyLocks::HeldSet). Mutation records values and
// count changes in the group; Load and LoadMany in a scope look there before
// the cache and RocksDB, which is all the read-your-writes a pipeline needs.
// Reads that iterate (KEYS, SCAN) or use the in-memory counts commit the
// group first instead. The commit writes one batch holding each key's final
// value (a hundred INCRs of one key are one Put) and the expiry index moved
// from the key's expiry before the group to its expiry after, so the index
// invariant above holds for every commit; then it updates the counter cache
// as Mutation::Commit would, under the same locks.
//
// Disk errors: any failed write to RocksDB (or failed WAL sync) puts the
// keyspace in the "disk failing" state: writes are refused up front with
// kDiskError naming RocksDB's error, reads go on. RocksDB itself turns
// read-only after such an error (its background error, severity "hard"). A
// recovery thread retries every second: DB::Resume() (which flushes the
// memtables, since the WAL's tail can no longer be trusted), a flush of every
// column family, and a synced probe write; when all succeed, everything up to
// the sequence read before the probe is on disk, the WalSyncer is told so and
// writes are accepted again. A write that failed was never applied (RocksDB
// inserts into the memtable only after the WAL append succeeded), so nothing
// acknowledged is lost and nothing refused appears later.
//
// The counter cache (counter_cache.h) keeps recently used keys' stored
// values in memory, so GET and the read half of INCR skip RocksDB. It holds,
// for a key, either nothing or exactly what RocksDB stores for it:
//  - every write goes through Mutation, which updates the cache with the
//    values it wrote only after DB::Write returned Ok and while it still
//    holds the keys' locks (a multi-key write only refreshes keys already
//    cached); a failed write (disk error) erases its keys instead, so a value
//    that never reached RocksDB is never served;
//  - a transaction erases every key it wrote after its commit (success or
//    not), under its locks; inside the body reads bypass the cache (they go
//    through the transaction's batch); FLUSH clears the cache after its write;
//  - the reaper deletes through Mutation, and lazy expiry needs nothing: the
//    cache holds the expiry time with the value and readers check it;
//  - a read that misses fills the cache with what it read from RocksDB only
//    if no write touched the key's shard meanwhile (CounterCache::Fill), so a
//    slow reader cannot put back a replaced value;
//  - MGET and EXISTS read all their keys from RocksDB in one MultiGet (a
//    consistent snapshot), never a mix of cache and RocksDB, so they cannot
//    see half of another client's MSET.
// Durability (kAlways): a reply may leave only after the fsync covering every
// write it reflects; the connection waits for WalSyncer::VisibleSequence()
// read after the reply was computed. A cached value is one whose DB::Write
// has returned, and RocksDB publishes a write's sequence number (the one
// GetLatestSequenceNumber returns) before Write returns; the cache's shard
// mutex orders that publication before any reader's hit. So every value a
// reply shows from the cache has a sequence number <= the VisibleSequence the
// connection reads afterwards, and the reply waits for its fsync exactly as
// it would have had it read RocksDB. The cache never shows a value earlier
// than RocksDB would, only the same one faster.
//
// Checkpoints (SAVE/BGSAVE) use RocksDB's Checkpoint: one memtable flush,
// then hard links to the immutable table files in <dir>/checkpoints/<time>.
//
// KEYS and SCAN seek to the pattern's literal prefix and stop at its
// successor. A SCAN step stores where it stopped under a fresh cursor id in
// meta, so a cursor survives restarts, and every key present for the whole
// iteration is returned (in key order, exactly once).
#include "storage/keyspace.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <climits>
#include <cmath>
#include <condition_variable>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <span>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <spdlog/spdlog.h>
#include <boost/container/small_vector.hpp>

#include <rocksdb/cache.h>
#include <rocksdb/comparator.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/iterator.h>
#include <rocksdb/listener.h>
#include <rocksdb/statistics.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/utilities/write_batch_with_index.h>
#include <rocksdb/write_batch.h>

#include "storage/counter_cache.h"
#include "storage/glob.h"
#include "storage/info_log.h"
#include "storage/key_locks.h"
#include "storage/layout.h"
#include "storage/merge_operators.h"
#include "storage/numbers.h"
#include "storage/value_codec.h"

namespace tally::storage {
namespace {

// One SCAN step examines at most this many keys, whatever COUNT says, so a
// single call cannot monopolise a thread for long.
constexpr int64_t kMaxScanCount = 250'000;
// Cursor ids stay exactly representable as JavaScript numbers.
constexpr uint64_t kMaxCursorId = (uint64_t{1} << 53) - 1;
// The reaper deletes expired keys in batches of kReapChunk (locking their
// stripes together) and at most kReapPerRound keys or cursors per round, so
// it never holds up foreground writes for long.
constexpr size_t kReapChunk = 128;
constexpr size_t kReapPerRound = 16'384;

Status IoError(const rocksdb::Status& status) { return Status(Code::kIoError, status.ToString()); }

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

int64_t UnixSecondsNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A checkpoint directory name: the UTC time, e.g. 20261125T153000Z.
std::string CheckpointName(std::chrono::system_clock::time_point when) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(when);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &utc);
  return text;
}

bool IsExpired(int64_t expire_at_ms, int64_t now_ms) {
  return expire_at_ms != 0 && expire_at_ms <= now_ms;
}

KeyType KeyTypeOf(ValueType type) {
  switch (type) {
    case ValueType::kString:
      return KeyType::kString;
  }
  return KeyType::kNone;
}

// RocksDB reports a held LOCK file as an IOError with one of these texts
// (another process: fcntl failed; this process: its own lock table).
bool IsLockHeld(const rocksdb::Status& status) {
  const std::string text = status.ToString();
  return status.IsIOError() && (text.find("While lock file") != std::string::npos ||
                                text.find("lock hold by current process") != std::string::npos);
}

// EXPIRE's NX/XX/GT/LT exactly as Redis 7 checks them, each set option in
// turn; `current` is 0 when the key has no expiry, which GT and LT treat as
// an infinite TTL.
bool ExpireConditionHolds(const ExpireCondition& condition, int64_t current, int64_t at_ms) {
  if (condition.nx && current != 0) return false;
  if (condition.xx && current == 0) return false;
  if (condition.gt && (current == 0 || at_ms <= current)) return false;
  if (condition.lt && current != 0 && at_ms >= current) return false;
  return true;
}

// What the data column family holds for one key when it was read.
struct Slot {
  bool present = false;  // stored, possibly expired and not reaped yet.
  bool live = false;     // present and not expired: what commands see.
  StoredValue value;     // meaningful when present.
};

// The state of one Atomically call, reachable from its thread while the
// body runs (active_transaction).
struct Transaction {
  Transaction(Keyspace::Impl* impl, const std::vector<std::string_view>& keys, bool all_keys,
              int64_t now_ms)
      : impl(impl), keys(keys.begin(), keys.end()), all_keys(all_keys), now_ms(now_ms) {}

  bool Covers(std::string_view key) const { return all_keys || keys.count(key) != 0; }
  // Abandons the transaction (its first failure is what Atomically returns)
  // and returns `status` for the failing operation.
  Status Fail(Status status) {
    if (failure.ok()) failure = status;
    return status;
  }
  // Writes everything in one batch and updates the counter cache; defined
  // after Keyspace::Impl.
  Status Commit();
  Status Write();

  Keyspace::Impl* const impl;
  // Views into the caller's vector, which outlives the call.
  const std::unordered_set<std::string_view> keys;
  const bool all_keys;
  // The clock stands still inside a transaction, as in Redis 7's EXEC.
  const int64_t now_ms;
  // overwrite_key keeps one index entry per key, which reading through the
  // batch (GetFromBatchAndDB, NewIteratorWithBase) needs to resolve a Put or
  // Delete over the DB's value correctly.
  rocksdb::WriteBatchWithIndex batch{rocksdb::BytewiseComparator(), 0, /*overwrite_key=*/true};
  // FLUSH ran in the body: what the DB held is gone from the transaction's
  // view, and the commit starts with FLUSH's range deletions.
  bool flushed = false;
  // Count changes of the operations so far (from zero once flushed), applied
  // to the stored and in-memory counts only with the commit.
  int64_t key_delta = 0;
  int64_t expiring_delta = 0;
  Status failure;
  // Every key the body wrote: the commit erases them from the counter cache.
  std::vector<std::string> written;
};

thread_local Transaction* active_transaction = nullptr;

// A thread's write group (Keyspace::GroupScope): the writes of many
// operations waiting to go to RocksDB as one batch, their keys' stripes held
// until then. Owned by the keyspace; its thread finds it through
// thread_group_slot. Members that need Keyspace::Impl are defined after it.
struct WriteGroup {
  explicit WriteGroup(Keyspace::Impl* impl);

  // Holds stripes, and so possibly writes, not committed yet.
  bool Pending() const { return !stripes.empty(); }
  // Takes the stripes (ascending, distinct) of one more write. kDiskError
  // while the disk is failing. A stripe another thread holds makes the group
  // commit first (reported to the listener like any commit); only then, with
  // nothing held, does it wait.
  Status Acquire(std::span<const size_t> wanted);
  // Writes every entry in one batch, updates the counter cache, tells the
  // listener, and releases every stripe.
  Status Commit();

  struct Entry {
    std::optional<StoredValue> value;  // nullopt: deleted.
    bool single;                       // written alone, so worth caching (Mutation::Commit).
    // What RocksDB held before the group's first write of the key.
    bool was_present;
    int64_t was_expire_at_ms;  // 0 if none or not present.
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view key) const { return std::hash<std::string_view>{}(key); }
  };

  Keyspace::Impl* const impl;
  GroupListener* listener = nullptr;
  bool in_scope = false;
  KeyLocks::HeldSet stripes;
  // The latest value of every key written since the last commit.
  std::unordered_map<std::string, Entry, Hash, std::equal_to<>> entries;
  size_t bytes = 0;  // a rough size of `entries`
  int64_t key_delta = 0;
  int64_t expiring_delta = 0;
};

// Past about this many bytes of writes a group commits before taking more.
constexpr size_t kMaxGroupBytes = 16u << 20;

struct ThreadGroupSlot {
  uint64_t keyspace_id = 0;  // Keyspace::Impl::id of the group's keyspace.
  WriteGroup* group = nullptr;
};
thread_local ThreadGroupSlot thread_group_slot;
std::atomic<uint64_t> next_keyspace_id{1};

// RocksDB statistics that keep only what the metrics show, the block cache's
// hits and misses. RocksDB's own implementation counts every ticker (several
// per read and per write) in per-core slots, which measurably slowed INCR;
// here every other ticker is one virtual call that does nothing, and timers
// and histograms are off.
class BlockCacheStatistics : public rocksdb::Statistics {
 public:
  const char* Name() const override { return "TallyBlockCacheStatistics"; }
  uint64_t getTickerCount(uint32_t ticker) const override {
    const std::atomic<uint64_t>* counter = Counter(ticker);
    return counter != nullptr ? counter->load(std::memory_order_relaxed) : 0;
  }
  void histogramData(uint32_t, rocksdb::HistogramData* const data) const override {
    *data = rocksdb::HistogramData();
  }
  void recordTick(uint32_t ticker, uint64_t count) override {
    if (std::atomic<uint64_t>* counter = Counter(ticker)) {
      counter->fetch_add(count, std::memory_order_relaxed);
    }
  }
  void setTickerCount(uint32_t ticker, uint64_t count) override {
    if (std::atomic<uint64_t>* counter = Counter(ticker)) {
      counter->store(count, std::memory_order_relaxed);
    }
  }
  uint64_t getAndResetTickerCount(uint32_t ticker) override {
    std::atomic<uint64_t>* counter = Counter(ticker);
    return counter != nullptr ? counter->exchange(0, std::memory_order_relaxed) : 0;
  }
  bool HistEnabledForType(uint32_t) const override { return false; }
  // Histograms are off. Without this override RocksDB's default forwards to
  // measureTime(), which asserts in builds without NDEBUG.
  void recordInHistogram(uint32_t, uint64_t) override {}

 private:
  std::atomic<uint64_t>* Counter(uint32_t ticker) {
    if (ticker == rocksdb::BLOCK_CACHE_HIT) return &hits_;
    if (ticker == rocksdb::BLOCK_CACHE_MISS) return &misses_;
    return nullptr;
  }
  const std::atomic<uint64_t>* Counter(uint32_t ticker) const {
    return const_cast<BlockCacheStatistics*>(this)->Counter(ticker);
  }
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> misses_{0};
};

}  // namespace

struct Keyspace::Impl {
  ~Impl();

  int64_t Now() const;
  // The transaction this thread is running on this keyspace, if any.
  Transaction* ActiveTransaction() const;
  // The calling thread's write group on this keyspace, if it has one.
  WriteGroup* ThreadGroup() const;
  // The same while the thread is inside a GroupScope and no transaction.
  WriteGroup* ScopedGroup() const;
  // Commits the calling thread's group if it has a pending one.
  Status CommitThreadGroup();
  // Fills *slot from the scoped group's pending write of `key`, if any.
  bool LoadPending(const WriteGroup* group, std::string_view key, int64_t now, Slot* slot) const;
  // Returns `status`, first abandoning the active transaction if it is an
  // I/O error: a transaction that met one writes nothing.
  Status Noted(Status status);
  // The stored data entry of `key`, seen through the active transaction.
  rocksdb::Status ReadData(std::string_view key, rocksdb::PinnableSlice* value);
  // Through the counter cache outside transactions.
  Status Load(std::string_view key, int64_t now, Slot* slot);
  // `keys_locked`: the caller holds the keys' locks, so their values cannot
  // change between the reads and the counter cache may serve some of them;
  // otherwise all come from one RocksDB MultiGet (a consistent snapshot).
  Status LoadMany(const std::vector<std::string_view>& keys, int64_t now, bool keys_locked,
                  std::vector<Slot>* slots);
  // A consistent view of several keys for MGET and EXISTS: with their stripes
  // locked (held in *guard until the caller is done) if that needs no wait,
  // so the counter cache can serve them; else one MultiGet snapshot.
  Status LoadManyConsistent(const std::vector<std::string_view>& keys, int64_t now,
                            KeyLocks::Guard* guard, std::vector<Slot>* slots);
  Status ReadMetaInt64(std::string_view key, int64_t* value);
  // MSET and MSETNX.
  Status SetMany(const std::vector<std::pair<std::string_view, std::string_view>>& pairs,
                 bool only_if_none_exist, bool* applied);
  // Whether a data entry is a live key of `type` (nullopt: any) matching `pattern`.
  Status Visible(std::string_view key, std::string_view encoded, std::string_view pattern,
                 std::optional<KeyType> type, int64_t now, bool* visible);
  Status LoadCursor(uint64_t id, int64_t now, std::string* resume_at);
  Status SaveCursor(std::string_view last_key, int64_t now, uint64_t* id);
  uint64_t NextCursorId();
  // FLUSH's writes: range deletions over the data and the index, and the
  // stored counts set to zero.
  rocksdb::Status AppendDeleteAll(rocksdb::WriteBatch* batch);
  // Writes `batch` with the count changes it makes, then mirrors them in
  // memory. With `counts_reset` the batch has set the stored counts to zero
  // first (FLUSH), so the deltas become the counts.
  Status WriteWithCounts(rocksdb::WriteBatch* batch, int64_t key_delta, int64_t expiring_delta,
                         bool counts_reset);

  // Disk errors (see the top of this file).
  // Refuses the write when the disk is failing: kDiskError, else Ok.
  Status CheckWritable() const;
  // Enters the failing state (if not in it yet) and returns kDiskError.
  Status DiskFailed(const std::string& error);
  void RunDiskRecovery();
  // One recovery attempt: Ok once writes reach the disk again.
  rocksdb::Status TryRecover();

  // Checkpoints: runs one; the caller has set checkpoint_running.
  Status RunCheckpoint(std::string* path);

  void RunReaper();
  Status ReapExpiredKeys();
  Status ReapKeys(const std::vector<std::string>& keys);
  Status ReapCursors();

  OpenOptions options;
  // Never synced inline; see "Durability" above.
  rocksdb::WriteOptions write_options;

  rocksdb::DBOptions db_options;  // as opened; WriteBatchWithIndex::GetFromBatch wants them.
  rocksdb::DB* db = nullptr;
  rocksdb::ColumnFamilyHandle* data = nullptr;
  rocksdb::ColumnFamilyHandle* expiry = nullptr;
  rocksdb::ColumnFamilyHandle* meta = nullptr;

  std::unique_ptr<WalSyncer> syncer;
  std::shared_ptr<WalGuard> wal_guard;
  std::unique_ptr<rocksdb::Env> guarded_env;    // the DB's env: wal_guard's file system.
  std::shared_ptr<rocksdb::Cache> block_cache;  // shared by every column family
  std::shared_ptr<KeepMemtableNonEmpty> sentinel = std::make_shared<KeepMemtableNonEmpty>();

  const uint64_t id = next_keyspace_id.fetch_add(1);
  KeyLocks locks;
  std::mutex groups_mutex;
  std::vector<std::unique_ptr<WriteGroup>> groups;  // one per thread that opened a GroupScope
  std::unique_ptr<CounterCache> cache;              // see "The counter cache" above.
  Keyspace::WriteObserver write_observer;           // see Keyspace::SetWriteObserver.
  std::atomic<int64_t> key_count{0};
  std::atomic<int64_t> expiring_count{0};
  std::atomic<uint64_t> last_cursor_id{0};

  std::mutex reaper_mutex;
  std::condition_variable reaper_wake;
  bool stopping = false;  // guarded by reaper_mutex.
  std::thread reaper;

  std::atomic<bool> disk_failing{false};  // set and cleared under disk_mutex.
  mutable std::mutex disk_mutex;
  std::condition_variable disk_wake;
  std::string disk_error;  // guarded by disk_mutex; what failed first.
  std::chrono::steady_clock::time_point disk_failed_at;  // guarded by disk_mutex.
  bool disk_stopping = false;                            // guarded by disk_mutex.
  std::thread disk_recovery;

  mutable std::mutex checkpoint_mutex;
  bool checkpoint_running = false;  // guarded by checkpoint_mutex.
  CheckpointInfo checkpoint;        // guarded by checkpoint_mutex.
  std::thread checkpoint_thread;    // the last BGSAVE's.
};

namespace {

// One operation's locks and writes: data, expiry index and counts change in
// a single WriteBatch. Every write of the keyspace goes through here.
//
// Outside a transaction, Lock takes the stripes of the keys, the caller reads
// and decides under them, and Commit writes the batch and updates the
// in-memory counts before the locks go, so `current` stays what is stored and
// no other writer (or Flush) sees the counts out of step with the data.
//
// Inside Atomically the transaction already holds the stripes of its keys:
// Lock only checks that the key is among them (locking more could deadlock
// against another transaction), the writes go straight into the
// transaction's batch, and Commit hands the count changes to the transaction,
// which writes everything at once when the body is done.
class Mutation {
 public:
  // `observed`: tells the write observer of each key written; false for
  // the reaper, whose removals of expired keys are no news to a watcher.
  explicit Mutation(Keyspace::Impl* impl, bool observed = true)
      : impl_(impl),
        observer_(observed && impl->write_observer ? &impl->write_observer : nullptr),
        transaction_(impl->ActiveTransaction()),
        group_(transaction_ == nullptr ? impl->ScopedGroup() : nullptr) {
    // A group's writes are reported when it commits (WriteGroup::Commit).
    if (group_ != nullptr) observer_ = nullptr;
    // A write outside the thread's scope must neither wait for stripes its
    // own pending group holds nor overtake that group's writes.
    if (transaction_ == nullptr && group_ == nullptr) impl->CommitThreadGroup();
  }

  Status Lock(std::string_view key) {
    if (transaction_ != nullptr) return CheckCovered(key);
    if (group_ != nullptr) {
      const size_t stripe = KeyLocks::StripeOf(key);
      return group_->Acquire({&stripe, 1});
    }
    guard_ = impl_->locks.Lock(key);
    return Status();
  }

  // The read half of every single-key read-modify-write: lock the key, then
  // read what it holds at the time the lock was obtained (stored in *now).
  Status LockAndLoad(std::string_view key, Slot* slot, int64_t* now = nullptr) {
    Status status = Lock(key);
    if (!status.ok()) return status;
    const int64_t at = impl_->Now();
    if (now != nullptr) *now = at;
    return impl_->Load(key, at, slot);
  }

  Status Lock(const std::vector<std::string_view>& keys) {
    if (transaction_ != nullptr) {
      for (std::string_view key : keys) {
        Status status = CheckCovered(key);
        if (!status.ok()) return status;
      }
      return Status();
    }
    if (group_ != nullptr) {
      std::vector<size_t> stripes;
      stripes.reserve(keys.size());
      for (std::string_view key : keys) stripes.push_back(KeyLocks::StripeOf(key));
      std::sort(stripes.begin(), stripes.end());
      stripes.erase(std::unique(stripes.begin(), stripes.end()), stripes.end());
      return group_->Acquire(stripes);
    }
    guard_ = impl_->locks.Lock(keys);
    return Status();
  }

  // Every stripe, for DeleteAll. A group cannot hold them all without
  // waiting, so FLUSH commits the thread's group and runs on its own.
  Status LockAll() {
    if (group_ != nullptr) {
      impl_->CommitThreadGroup();
      group_ = nullptr;
    }
    if (transaction_ == nullptr) {
      guard_ = impl_->locks.LockAll();
      return Status();
    }
    if (transaction_->all_keys) return Status();
    return transaction_->Fail(
        Status(Code::kIoError,
               "FLUSH inside a transaction needs every key locked (Atomically's all_keys)"));
  }

  // Stores `next` over whatever `current` says is stored under `key`.
  // `key` must stay valid until Commit.
  // In a write group nothing goes into a batch here: the group's commit
  // writes each key's final value once (WriteGroup::Commit), so a pipeline of
  // INCRs on one key costs one memtable insert, not one per INCR.
  void Put(std::string_view key, const Slot& current, StoredValue next) {
    RemoveIndexEntry(key, current);
    if (next.expire_at_ms != 0) {
      if (group_ == nullptr) {
        Track(batch().Put(impl_->expiry, layout::ExpiryIndexKey(next.expire_at_ms, key), {}));
      }
      ++expiring_delta_;
    }
    if (!current.present) ++key_delta_;
    if (group_ == nullptr) Track(batch().Put(impl_->data, key, EncodeValue(next)));
    Written(key, current, std::move(next));
  }

  // Removes `key` if anything (even an expired value) is stored under it.
  void Delete(std::string_view key, const Slot& current) {
    if (!current.present) return;
    RemoveIndexEntry(key, current);
    --key_delta_;
    if (group_ == nullptr) Track(batch().Delete(impl_->data, key));
    Written(key, current, std::nullopt);
  }

  // Removes every key (FLUSH); the mutation's only write. One batch whatever
  // the size: range deletions and the counts reset to zero.
  void DeleteAll() {
    if (transaction_ == nullptr) {
      Track(impl_->AppendDeleteAll(&own_batch_));
      counts_reset_ = true;
      return;
    }
    // A WriteBatchWithIndex cannot hold DeleteRange, and the body's earlier
    // writes no longer matter: forget them and let Transaction::Commit put
    // the range deletions in front of whatever the body writes next.
    transaction_->batch.Clear();
    transaction_->flushed = true;
    transaction_->key_delta = 0;
    transaction_->expiring_delta = 0;
  }

  Status Commit() {
    if (transaction_ != nullptr) {
      if (!error_.ok()) return transaction_->Fail(IoError(error_));
      transaction_->key_delta += key_delta_;
      transaction_->expiring_delta += expiring_delta_;
      return Status();
    }
    if (group_ != nullptr) return CommitToGroup();
    if (!error_.ok()) return IoError(error_);
    Status status = impl_->WriteWithCounts(&own_batch_, key_delta_, expiring_delta_, counts_reset_);
    // Still under the keys' locks (see "The counter cache" above).
    CounterCache& cache = *impl_->cache;
    if (counts_reset_ && status.ok()) cache.Clear();
    // A write of one key caches it (the next INCR or GET of a counter is
    // likely); a write of many (MSET, a bulk load) only refreshes the keys
    // already cached, so it cannot push the hot counters out.
    const bool single = written_.size() == 1;
    for (const Write& write : written_) {
      if (status.ok() && write.value) {
        if (single) {
          cache.Put(write.key, *write.value);
        } else {
          cache.Update(write.key, *write.value);
        }
      } else {
        cache.Erase(write.key);
      }
    }
    return status;
  }

 private:
  rocksdb::WriteBatchBase& batch() {
    if (transaction_ != nullptr) return transaction_->batch;
    return own_batch_;
  }

  // Leaves the values and the counts for the group's commit. A key the group
  // had not written yet notes what RocksDB holds for it, from which the
  // commit works out the expiry index changes.
  Status CommitToGroup() {
    group_->key_delta += key_delta_;
    group_->expiring_delta += expiring_delta_;
    const bool single = written_.size() == 1;
    for (Write& write : written_) {
      group_->bytes += write.key.size() + (write.value ? write.value->raw.size() : 0) + 64;
      auto it = group_->entries.find(write.key);
      if (it == group_->entries.end()) {
        WriteGroup::Entry entry{std::move(write.value), single, write.was_present,
                                write.was_present ? write.was_expire_at_ms : 0};
        group_->entries.emplace(std::string(write.key), std::move(entry));
      } else {
        it->second.value = std::move(write.value);
        it->second.single = single;
      }
    }
    return Status();
  }

  Status CheckCovered(std::string_view key) {
    if (transaction_->Covers(key)) return Status();
    constexpr size_t kShown = 64;
    std::string shown(key.substr(0, kShown));
    if (key.size() > kShown) shown += "...";
    return transaction_->Fail(
        Status(Code::kIoError,
               "key '" + shown + "' is written inside a transaction that did not lock it"));
  }

  void RemoveIndexEntry(std::string_view key, const Slot& current) {
    if (!current.present || current.value.expire_at_ms == 0) return;
    if (group_ == nullptr) {
      Track(batch().Delete(impl_->expiry, layout::ExpiryIndexKey(current.value.expire_at_ms, key)));
    }
    --expiring_delta_;
  }

  // WriteBatch calls only fail on absurd sizes; the first failure fails Commit.
  void Track(const rocksdb::Status& status) {
    if (error_.ok() && !status.ok()) error_ = status;
  }

  // What the counter cache (and a write group) learns at Commit: `key`,
  // which held `current`, stores `value`, or is gone (nullopt). Inside a
  // transaction only the key is noted: its commit erases it.
  void Written(std::string_view key, const Slot& current, std::optional<StoredValue> value) {
    if (observer_ != nullptr) (*observer_)(key);  // the key is locked here
    if (transaction_ != nullptr) {
      transaction_->written.emplace_back(key);
      return;
    }
    written_.push_back(Write{key, std::move(value), current.present, current.value.expire_at_ms});
  }

  struct Write {
    std::string_view key;
    std::optional<StoredValue> value;
    bool was_present;
    int64_t was_expire_at_ms;  // meaningful when was_present.
  };

  Keyspace::Impl* impl_;
  const Keyspace::WriteObserver* observer_;  // nullptr: nobody to tell now.
  Transaction* transaction_;                 // nullptr: outside Atomically.
  WriteGroup* group_;      // non-null: in a GroupScope (never with a transaction).
  KeyLocks::Guard guard_;  // released after Commit, when the Mutation goes.
  rocksdb::WriteBatch own_batch_;
  // Most mutations write one key: no allocation for the list then.
  boost::container::small_vector<Write, 1> written_;
  rocksdb::Status error_;
  bool counts_reset_ = false;
  int64_t key_delta_ = 0;
  int64_t expiring_delta_ = 0;
};

// An iterator over one column family that stops before `upper_bound`
// (nullopt: at the end). Inside a transaction it shows the transaction's
// writes over the DB's contents (read-your-writes for KEYS and SCAN).
class BoundedIterator {
 public:
  BoundedIterator(Keyspace::Impl& impl, rocksdb::ColumnFamilyHandle* family,
                  std::optional<std::string> upper_bound)
      : upper_bound_(std::move(upper_bound)) {
    if (upper_bound_) {
      upper_slice_ = *upper_bound_;
      read_options_.iterate_upper_bound = &upper_slice_;
    }
    Transaction* transaction = impl.ActiveTransaction();
    if (transaction == nullptr) {
      it_.reset(impl.db->NewIterator(read_options_, family));
      return;
    }
    rocksdb::Iterator* base = transaction->flushed ? rocksdb::NewEmptyIterator()
                                                   : impl.db->NewIterator(read_options_, family);
    it_.reset(transaction->batch.NewIteratorWithBase(family, base, &read_options_));
  }
  BoundedIterator(const BoundedIterator&) = delete;
  BoundedIterator& operator=(const BoundedIterator&) = delete;

  void Seek(std::string_view target) { it_->Seek(target); }
  void SeekToFirst() { it_->SeekToFirst(); }
  // Outside transactions only: the batch's side ignores the bound (below).
  void SeekToLast() { it_->SeekToLast(); }
  void Next() { it_->Next(); }
  // RocksDB 7.8 stops a transaction's batch entries at iterate_upper_bound
  // only when the DB's side ended first, so the bound is checked here too.
  bool Valid() const {
    return it_->Valid() && (!upper_bound_ || it_->key().compare(upper_slice_) < 0);
  }
  std::string_view key() const { return it_->key().ToStringView(); }
  std::string_view value() const { return it_->value().ToStringView(); }
  rocksdb::Status status() const { return it_->status(); }

 private:
  std::optional<std::string> upper_bound_;
  rocksdb::Slice upper_slice_;
  rocksdb::ReadOptions read_options_;  // RocksDB keeps pointers to it and to the bound.
  std::unique_ptr<rocksdb::Iterator> it_;
};

// Copies the records of one batch into another. A transaction that flushed
// writes FLUSH's range deletions first and its own writes after them (later
// records of a batch get later sequence numbers, so they survive the
// deletions).
class BatchCopier : public rocksdb::WriteBatch::Handler {
 public:
  BatchCopier(const Keyspace::Impl& impl, rocksdb::WriteBatch* target)
      : families_{impl.data, impl.expiry, impl.meta}, target_(target) {}

  rocksdb::Status PutCF(uint32_t family_id, const rocksdb::Slice& key,
                        const rocksdb::Slice& value) override {
    rocksdb::ColumnFamilyHandle* family = Family(family_id);
    return family == nullptr ? Unknown(family_id) : target_->Put(family, key, value);
  }
  rocksdb::Status DeleteCF(uint32_t family_id, const rocksdb::Slice& key) override {
    rocksdb::ColumnFamilyHandle* family = Family(family_id);
    return family == nullptr ? Unknown(family_id) : target_->Delete(family, key);
  }
  rocksdb::Status MergeCF(uint32_t family_id, const rocksdb::Slice& key,
                          const rocksdb::Slice& value) override {
    rocksdb::ColumnFamilyHandle* family = Family(family_id);
    return family == nullptr ? Unknown(family_id) : target_->Merge(family, key, value);
  }

 private:
  rocksdb::ColumnFamilyHandle* Family(uint32_t id) const {
    for (rocksdb::ColumnFamilyHandle* family : families_) {
      if (family->GetID() == id) return family;
    }
    return nullptr;
  }
  static rocksdb::Status Unknown(uint32_t id) {
    return rocksdb::Status::Corruption("transaction batch names unknown column family " +
                                       std::to_string(id));
  }

  std::array<rocksdb::ColumnFamilyHandle*, 3> families_;
  rocksdb::WriteBatch* target_;
};

void SlotOf(StoredValue value, int64_t now, Slot* slot) {
  slot->value = std::move(value);
  slot->present = true;
  slot->live = !IsExpired(slot->value.expire_at_ms, now);
}

Status DecodeSlot(std::string_view encoded, int64_t now, Slot* slot) {
  Status status = DecodeValue(encoded, &slot->value);
  if (!status.ok()) return status;
  slot->present = true;
  slot->live = !IsExpired(slot->value.expire_at_ms, now);
  return Status();
}

// The integer INCRBY works on: int-encoded values are used as they are; raw
// text gets Redis's string2ll rules.
Status IntegerOf(const StoredValue& value, int64_t* number) {
  if (value.encoding == StringEncoding::kInt) {
    *number = value.int_value;
    return Status();
  }
  std::optional<int64_t> parsed = ParseInt64(value.raw);
  if (!parsed) return Status(Code::kNotInteger);
  *number = *parsed;
  return Status();
}

// The distinct keys of `pairs`, each with the value given last for it.
std::vector<std::pair<std::string_view, std::string_view>> LastValuePerKey(
    const std::vector<std::pair<std::string_view, std::string_view>>& pairs) {
  std::vector<std::pair<std::string_view, std::string_view>> distinct;
  std::unordered_set<std::string_view> seen;
  for (auto it = pairs.rbegin(); it != pairs.rend(); ++it) {
    if (seen.insert(it->first).second) distinct.push_back(*it);
  }
  return distinct;
}

std::vector<std::string_view> DistinctKeys(const std::vector<std::string_view>& keys) {
  std::vector<std::string_view> distinct(keys);
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  return distinct;
}

}  // namespace

// --- Impl --------------------------------------------------------------------

Keyspace::Impl::~Impl() {
  if (checkpoint_thread.joinable()) checkpoint_thread.join();  // it needs the DB open.
  if (disk_recovery.joinable()) {
    {
      std::lock_guard lock(disk_mutex);
      disk_stopping = true;
    }
    disk_wake.notify_all();
    disk_recovery.join();
  }
  if (reaper.joinable()) {
    {
      std::lock_guard lock(reaper_mutex);
      stopping = true;
    }
    reaper_wake.notify_all();
    reaper.join();
  }
  syncer.reset();    // its last sync needs the DB open.
  sentinel->Stop();  // the closing flush leaves the memtables empty.
  if (db == nullptr) return;
  // Flushing the memtables now spares the next Open a WAL replay; a failure
  // only means that replay happens.
  if (data != nullptr) {
    db->Flush(rocksdb::FlushOptions(), {data, expiry, meta}).PermitUncheckedError();
  }
  for (rocksdb::ColumnFamilyHandle* family : {data, expiry, meta}) {
    if (family != nullptr) db->DestroyColumnFamilyHandle(family).PermitUncheckedError();
  }
  db->Close().PermitUncheckedError();  // nothing left to do with an error here.
  delete db;
}

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

Status Keyspace::Impl::CommitThreadGroup() {
  WriteGroup* group = ThreadGroup();
  return group != nullptr ? group->Commit() : Status();
}

bool Keyspace::Impl::LoadPending(const WriteGroup* group, std::string_view key, int64_t now,
                                 Slot* slot) const {
  if (group == nullptr || group->entries.empty()) return false;
  auto it = group->entries.find(key);
  if (it == group->entries.end()) return false;
  *slot = Slot();
  if (it->second.value) {
    slot->present = true;
    slot->value = *it->second.value;
    slot->live = !IsExpired(slot->value.expire_at_ms, now);
  }
  return true;
}

Status Keyspace::Impl::Noted(Status status) {
  if (status.code() == Code::kIoError) {
    if (Transaction* transaction = ActiveTransaction()) transaction->Fail(status);
  }
  return status;
}

rocksdb::Status Keyspace::Impl::ReadData(std::string_view key, rocksdb::PinnableSlice* value) {
  Transaction* transaction = ActiveTransaction();
  if (transaction == nullptr) return db->Get(rocksdb::ReadOptions(), data, key, value);
  if (!transaction->flushed) {
    return transaction->batch.GetFromBatchAndDB(db, rocksdb::ReadOptions(), data, key, value);
  }
  std::string found;  // after FLUSH only the batch counts.
  rocksdb::Status status = transaction->batch.GetFromBatch(data, db_options, key, &found);
  if (status.ok()) value->PinSelf(found);
  return status;
}

Status Keyspace::Impl::Load(std::string_view key, int64_t now, Slot* slot) {
  *slot = Slot();
  if (ActiveTransaction() != nullptr) {
    rocksdb::PinnableSlice encoded;
    rocksdb::Status status = ReadData(key, &encoded);
    if (status.IsNotFound()) return Status();
    if (!status.ok()) return Noted(IoError(status));
    return Noted(DecodeSlot(encoded.ToStringView(), now, slot));
  }
  if (LoadPending(ScopedGroup(), key, now, slot)) return Status();
  uint64_t ticket = 0;
  std::optional<StoredValue> cached;
  if (cache->Lookup(key, &cached, &ticket)) {
    if (cached) SlotOf(std::move(*cached), now, slot);
    return Status();
  }
  rocksdb::PinnableSlice encoded;
  rocksdb::Status status = db->Get(rocksdb::ReadOptions(), data, key, &encoded);
  if (status.IsNotFound()) {
    cache->Fill(key, std::nullopt, ticket);
    return Status();
  }
  if (!status.ok()) return IoError(status);
  Status decoded = DecodeSlot(encoded.ToStringView(), now, slot);
  if (decoded.ok()) cache->Fill(key, slot->value, ticket);
  return decoded;
}

Status Keyspace::Impl::LoadMany(const std::vector<std::string_view>& keys, int64_t now,
                                bool keys_locked, std::vector<Slot>* slots) {
  slots->assign(keys.size(), Slot());
  if (keys.empty()) return Status();
  // A transaction reads key by key through its batch. No snapshot across
  // them is needed: the keys it locked cannot change in between.
  if (ActiveTransaction() != nullptr) {
    for (size_t i = 0; i < keys.size(); ++i) {
      Status status = Load(keys[i], now, &(*slots)[i]);
      if (!status.ok()) return status;
    }
    return Status();
  }
  // With the keys locked, those in the counter cache are what RocksDB holds
  // and stay so: only the others need reading.
  // This thread's pending writes are its own: no other thread can change
  // those keys before the group commits, so they mix with either.
  const WriteGroup* group = ScopedGroup();
  std::vector<size_t> missed;
  std::vector<uint64_t> tickets;
  missed.reserve(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    uint64_t ticket = 0;
    Slot& slot = (*slots)[i];
    if (LoadPending(group, keys[i], now, &slot)) continue;
    std::optional<StoredValue> cached;
    if (keys_locked && cache->Lookup(keys[i], &cached, &ticket)) {
      if (cached) SlotOf(std::move(*cached), now, &slot);
      continue;
    }
    missed.push_back(i);
    tickets.push_back(ticket);
  }
  if (missed.empty()) return Status();
  std::vector<rocksdb::Slice> key_slices;
  key_slices.reserve(missed.size());
  for (size_t i : missed) key_slices.emplace_back(keys[i]);
  std::vector<rocksdb::PinnableSlice> values(missed.size());
  std::vector<rocksdb::Status> statuses(missed.size());
  db->MultiGet(rocksdb::ReadOptions(), data, missed.size(), key_slices.data(), values.data(),
               statuses.data());
  for (size_t j = 0; j < missed.size(); ++j) {
    // Absent keys are not noted: a bulk write (MSET of new keys) must not
    // fill the cache through them.
    if (statuses[j].IsNotFound()) continue;
    if (!statuses[j].ok()) return IoError(statuses[j]);
    Slot& slot = (*slots)[missed[j]];
    Status status = DecodeSlot(values[j].ToStringView(), now, &slot);
    if (!status.ok()) return status;
    if (keys_locked) cache->Fill(keys[missed[j]], slot.value, tickets[j]);
  }
  return Status();
}

Status Keyspace::Impl::LoadManyConsistent(const std::vector<std::string_view>& keys, int64_t now,
                                          KeyLocks::Guard* guard, std::vector<Slot>* slots) {
  bool locked = false;
  if (ActiveTransaction() == nullptr) {
    // Never wait: this thread's group may hold stripes another thread needs
    // to finish what it is doing with these.
    const WriteGroup* group = ThreadGroup();
    locked = locks.TryLock(keys, group != nullptr ? &group->stripes : nullptr, guard);
  }
  return LoadMany(keys, now, locked, slots);
}

Status Keyspace::Impl::ReadMetaInt64(std::string_view key, int64_t* value) {
  *value = 0;
  std::string encoded;
  rocksdb::Status status = db->Get(rocksdb::ReadOptions(), meta, key, &encoded);
  if (status.IsNotFound()) return Status();
  if (!status.ok()) return IoError(status);
  if (!layout::DecodeInt64(encoded, value)) {
    return Status(Code::kIoError, "meta entry " + std::string(key) + " is not an int64");
  }
  return Status();
}

Status Keyspace::Impl::SetMany(
    const std::vector<std::pair<std::string_view, std::string_view>>& pairs,
    bool only_if_none_exist, bool* applied) {
  *applied = false;
  const auto distinct = LastValuePerKey(pairs);
  std::vector<std::string_view> keys;
  keys.reserve(distinct.size());
  for (const auto& pair : distinct) keys.push_back(pair.first);

  Mutation mutation(this);
  Status status = mutation.Lock(keys);
  if (!status.ok()) return status;
  const int64_t now = Now();
  std::vector<Slot> slots;
  status = LoadMany(keys, now, /*keys_locked=*/true, &slots);
  if (!status.ok()) return status;
  if (only_if_none_exist &&
      std::any_of(slots.begin(), slots.end(), [](const Slot& slot) { return slot.live; })) {
    return Status();
  }
  for (size_t i = 0; i < distinct.size(); ++i) {
    mutation.Put(keys[i], slots[i], MakeString(distinct[i].second, 0));
  }
  status = mutation.Commit();
  *applied = status.ok();
  return status;
}

Status Keyspace::Impl::Visible(std::string_view key, std::string_view encoded,
                               std::string_view pattern, std::optional<KeyType> type, int64_t now,
                               bool* visible) {
  ValueHeader header;
  Status status = DecodeHeader(encoded, &header);
  if (!status.ok()) return status;
  *visible = !IsExpired(header.expire_at_ms, now) && (!type || *type == KeyTypeOf(header.type)) &&
             GlobMatch(pattern, key);
  return Status();
}

Status Keyspace::Impl::LoadCursor(uint64_t id, int64_t now, std::string* resume_at) {
  std::string encoded;
  rocksdb::Status status = db->Get(rocksdb::ReadOptions(), meta, layout::CursorKey(id), &encoded);
  if (status.IsNotFound()) return Status(Code::kInvalidCursor);
  if (!status.ok()) return IoError(status);
  layout::CursorState state;
  if (!layout::DecodeCursorState(encoded, &state)) {
    return Status(Code::kIoError, "SCAN cursor state " + std::to_string(id) + " is unreadable");
  }
  if (now - state.created_ms >= options.cursor_lifetime_ms) return Status(Code::kInvalidCursor);
  // The smallest key after the last one examined.
  *resume_at = std::move(state.last_key);
  resume_at->push_back('\0');
  return Status();
}

Status Keyspace::Impl::SaveCursor(std::string_view last_key, int64_t now, uint64_t* id) {
  const uint64_t new_id = NextCursorId();
  rocksdb::WriteBatch batch;
  rocksdb::Status status =
      batch.Put(meta, layout::CursorKey(new_id), layout::EncodeCursorState(now, last_key));
  if (status.ok()) {
    status = batch.Put(meta, layout::kLastCursorIdKey,
                       layout::EncodeInt64(static_cast<int64_t>(new_id)));
  }
  if (!status.ok()) return IoError(status);
  if (Status writable = CheckWritable(); !writable.ok()) return writable;
  status = db->Write(write_options, &batch);
  if (!status.ok()) return DiskFailed(status.ToString());
  *id = new_id;
  return Status();
}

uint64_t Keyspace::Impl::NextCursorId() {
  uint64_t last = last_cursor_id.load();
  uint64_t next = 0;
  do {
    next = last >= kMaxCursorId ? 1 : last + 1;
  } while (!last_cursor_id.compare_exchange_weak(last, next));
  return next;
}

void Keyspace::Impl::RunReaper() {
  const std::chrono::milliseconds interval(std::max(1, options.reaper_interval_ms));
  std::unique_lock lock(reaper_mutex);
  while (!reaper_wake.wait_for(lock, interval, [this] { return stopping; })) {
    lock.unlock();
    // A failed round changes nothing that the next round cannot redo.
    ReapExpiredKeys();
    ReapCursors();
    lock.lock();
  }
}

Status Keyspace::Impl::ReapExpiredKeys() {
  BoundedIterator it(*this, expiry, layout::ExpiryIndexBound(Now()));
  size_t reaped = 0;
  it.SeekToFirst();
  while (it.Valid() && reaped < kReapPerRound) {
    std::vector<std::string> due;
    for (; it.Valid() && due.size() < kReapChunk; it.Next()) {
      std::string_view key;
      if (layout::ParseExpiryIndexKey(it.key(), &key)) due.emplace_back(key);
    }
    Status status = ReapKeys(due);
    if (!status.ok()) return status;
    reaped += due.size();
  }
  return it.status().ok() ? Status() : IoError(it.status());
}

// Deletes those of `keys` that are still expired once locked: a writer may
// have replaced a value or changed its TTL since the index was read.
Status Keyspace::Impl::ReapKeys(const std::vector<std::string>& keys) {
  const std::vector<std::string_view> views(keys.begin(), keys.end());
  Mutation mutation(this, /*observed=*/false);
  Status status = mutation.Lock(views);
  if (!status.ok()) return status;
  std::vector<Slot> slots;
  status = LoadMany(views, Now(), /*keys_locked=*/true, &slots);
  if (!status.ok()) return status;
  for (size_t i = 0; i < views.size(); ++i) {
    if (slots[i].present && !slots[i].live) mutation.Delete(views[i], slots[i]);
  }
  return mutation.Commit();
}

Status Keyspace::Impl::ReapCursors() {
  const int64_t now = Now();
  BoundedIterator it(*this, meta, layout::PrefixSuccessor(layout::kCursorPrefix));
  rocksdb::WriteBatch batch;
  // Ids grow with time, so the oldest states come first: stop at a live one.
  for (it.Seek(layout::kCursorPrefix); it.Valid() && batch.Count() < kReapPerRound; it.Next()) {
    layout::CursorState state;
    if (layout::DecodeCursorState(it.value(), &state) &&
        now - state.created_ms < options.cursor_lifetime_ms) {
      break;
    }
    rocksdb::Status status = batch.Delete(meta, it.key());
    if (!status.ok()) return IoError(status);
  }
  if (!it.status().ok()) return IoError(it.status());
  if (batch.Count() == 0) return Status();
  if (Status writable = CheckWritable(); !writable.ok()) return writable;
  rocksdb::Status status = db->Write(write_options, &batch);
  return status.ok() ? Status() : DiskFailed(status.ToString());
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

Status Keyspace::Impl::WriteWithCounts(rocksdb::WriteBatch* batch, int64_t key_delta,
                                       int64_t expiring_delta, bool counts_reset) {
  if (batch->Count() == 0) return Status();
  rocksdb::Status status;
  if (key_delta != 0) {
    status = batch->Merge(meta, layout::kKeyCountKey, layout::EncodeInt64(key_delta));
  }
  if (status.ok() && expiring_delta != 0) {
    status = batch->Merge(meta, layout::kExpiringCountKey, layout::EncodeInt64(expiring_delta));
  }
  if (!status.ok()) return IoError(status);
  if (Status writable = CheckWritable(); !writable.ok()) return writable;
  status = db->Write(write_options, batch);
  if (!status.ok()) return DiskFailed(status.ToString());
  // The caller still holds the locks of every key in the batch (all of them
  // for a reset), so no other writer can look at the counts in between.
  if (counts_reset) {
    key_count = key_delta;
    expiring_count = expiring_delta;
  } else {
    key_count += key_delta;
    expiring_count += expiring_delta;
  }
  return Status();
}

Status Transaction::Commit() {
  if (!failure.ok()) return failure;  // nothing written: the cache stays right.
  Status status = Write();
  // Still under the transaction's locks (see "The counter cache" above).
  if (flushed && status.ok()) impl->cache->Clear();
  for (const std::string& key : written) impl->cache->Erase(key);
  return status;
}

Status Transaction::Write() {
  rocksdb::WriteBatch* writes = batch.GetWriteBatch();
  if (!flushed) return impl->WriteWithCounts(writes, key_delta, expiring_delta, false);
  rocksdb::WriteBatch combined;
  rocksdb::Status status = impl->AppendDeleteAll(&combined);
  if (status.ok()) {
    BatchCopier copier(*impl, &combined);
    status = writes->Iterate(&copier);
  }
  if (!status.ok()) return IoError(status);
  return impl->WriteWithCounts(&combined, key_delta, expiring_delta, /*counts_reset=*/true);
}

WriteGroup::WriteGroup(Keyspace::Impl* impl) : impl(impl), stripes(&impl->locks) {}

Status WriteGroup::Acquire(std::span<const size_t> wanted) {
  if (Status writable = impl->CheckWritable(); !writable.ok()) return writable;
  if (bytes > kMaxGroupBytes) Commit();  // its result goes to the listener.
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
  // One batch with each key's final value, and the expiry index moved from
  // where the key's expiry was before the group to where it is now.
  rocksdb::WriteBatch batch;
  rocksdb::Status appended;
  auto track = [&appended](const rocksdb::Status& status) {
    if (appended.ok()) appended = status;
  };
  for (const auto& [key, entry] : entries) {
    const int64_t before = entry.was_expire_at_ms;
    const int64_t after = entry.value ? entry.value->expire_at_ms : 0;
    if (before != 0 && before != after) {
      track(batch.Delete(impl->expiry, layout::ExpiryIndexKey(before, key)));
    }
    if (after != 0 && after != before) {
      track(batch.Put(impl->expiry, layout::ExpiryIndexKey(after, key), {}));
    }
    if (entry.value) {
      track(batch.Put(impl->data, key, EncodeValue(*entry.value)));
    } else if (entry.was_present) {
      track(batch.Delete(impl->data, key));
    }
  }
  Status status = appended.ok() ? impl->WriteWithCounts(&batch, key_delta, expiring_delta, false)
                                : IoError(appended);
  // Still under the keys' locks (see "The counter cache" above).
  CounterCache& cache = *impl->cache;
  const Keyspace::WriteObserver& observer = impl->write_observer;
  for (auto& [key, entry] : entries) {
    if (status.ok() && observer) observer(key);
    if (status.ok() && entry.value) {
      if (entry.single) {
        cache.Put(key, *entry.value);
      } else {
        cache.Update(key, *entry.value);
      }
    } else {
      cache.Erase(key);
    }
  }
  if (listener != nullptr) listener->OnGroupCommitted(status);
  entries.clear();
  bytes = 0;
  key_delta = 0;
  expiring_delta = 0;
  stripes.ReleaseAll();
  return status;
}

// --- Disk errors -------------------------------------------------------------

Status Keyspace::Impl::CheckWritable() const {
  if (!disk_failing.load(std::memory_order_acquire)) return Status();
  std::lock_guard lock(disk_mutex);
  if (!disk_failing.load()) return Status();  // recovered meanwhile
  return Status(Code::kDiskError, disk_error);
}

Status Keyspace::Impl::DiskFailed(const std::string& error) {
  {
    std::lock_guard lock(disk_mutex);
    if (!disk_failing.load()) {
      disk_error = error;
      disk_failed_at = std::chrono::steady_clock::now();
      disk_failing.store(true, std::memory_order_release);
      spdlog::error(
          "writing to the data directory failed: {}. Refusing writes until the disk is writable "
          "again (retrying every second); reads keep working",
          error);
    }
  }
  disk_wake.notify_all();
  return Status(Code::kDiskError, error);
}

rocksdb::Status Keyspace::Impl::TryRecover() {
  // First a small synced file through RocksDB's own file system: resuming
  // flushes the memtables, and a flush that fails while RocksDB recovers can
  // make its error fatal (only a restart clears that), so try it only once
  // the disk takes writes.
  rocksdb::Env* env = db->GetEnv();
  const std::string probe_file = options.dir + "/disk-probe.tmp";
  rocksdb::Status status = rocksdb::WriteStringToFile(env, std::string(4096, 'x'), probe_file,
                                                      /*should_sync=*/true);
  env->DeleteFile(probe_file).PermitUncheckedError();
  if (!status.ok()) return status;
  // Clears RocksDB's background error (flushing the memtables); Ok at once
  // when RocksDB did not stop, e.g. when only a WAL sync failed.
  status = db->Resume();
  if (!status.ok()) return status;
  // Whatever a failed WAL sync may have dropped goes to synced tables now;
  // writes are refused meanwhile, so this covers every applied write.
  rocksdb::FlushOptions flush;
  flush.allow_write_stall = true;
  const uint64_t flushed_up_to = db->GetLatestSequenceNumber();
  status = db->Flush(flush, {data, expiry, meta});
  sentinel->Refill(db);
  if (!status.ok()) return status;
  // The new WAL must take a synced write before clients' writes are taken.
  rocksdb::WriteOptions probe;
  probe.sync = true;
  status = db->Put(probe, meta, layout::kDiskProbeKey,
                   layout::EncodeInt64(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count()));
  if (!status.ok()) return status;
  syncer->MarkRecovered(flushed_up_to);
  return rocksdb::Status::OK();
}

void Keyspace::Impl::RunDiskRecovery() {
  using namespace std::chrono_literals;
  std::unique_lock lock(disk_mutex);
  auto last_report = std::chrono::steady_clock::time_point();
  bool fatal_reported = false;
  while (true) {
    disk_wake.wait(lock, [this] { return disk_stopping || disk_failing.load(); });
    if (disk_stopping) return;
    if (disk_wake.wait_for(lock, 1s, [this] { return disk_stopping; })) return;
    lock.unlock();
    const rocksdb::Status status = TryRecover();
    lock.lock();
    const auto now = std::chrono::steady_clock::now();
    if (status.ok()) {
      spdlog::warn("the data directory is writable again after {:.1f} s; accepting writes",
                   std::chrono::duration<double>(now - disk_failed_at).count());
      disk_error.clear();
      disk_failing.store(false, std::memory_order_release);
    } else if (status.severity() >= rocksdb::Status::Severity::kFatalError && !fatal_reported) {
      fatal_reported = true;
      spdlog::critical(
          "RocksDB cannot resume writing without a restart: {}. Reads keep working; restart "
          "tally-server once the disk is fixed (nothing acknowledged is lost)",
          status.ToString());
    } else if (now - last_report >= 30s) {
      last_report = now;
      spdlog::error("the data directory is still not writable ({:.0f} s): {}",
                    std::chrono::duration<double>(now - disk_failed_at).count(), status.ToString());
    }
  }
}

// --- Checkpoints ---------------------------------------------------------------

Status Keyspace::Impl::RunCheckpoint(std::string* path) {
  const auto started = std::chrono::steady_clock::now();
  const std::filesystem::path parent = std::filesystem::path(options.dir) / "checkpoints";
  Status result;
  std::error_code error;
  std::filesystem::create_directories(parent, error);
  std::filesystem::path target;
  if (error) {
    result = Status(Code::kIoError, "cannot create " + parent.string() + ": " + error.message());
  } else {
    // Unique even for two checkpoints within one second. Only one runs at a
    // time (checkpoint_running), so the name cannot be taken meanwhile.
    const std::string name = CheckpointName(std::chrono::system_clock::now());
    target = parent / name;
    for (int n = 1; std::filesystem::exists(target, error); ++n) {
      target = parent / (name + "-" + std::to_string(n));
    }
    rocksdb::Checkpoint* raw = nullptr;
    rocksdb::Status status = rocksdb::Checkpoint::Create(db, &raw);
    std::unique_ptr<rocksdb::Checkpoint> checkpointer(raw);
    // log_size_for_flush 0: always flush the memtables first, so the
    // checkpoint is table files (hard links) and an almost empty WAL.
    if (status.ok()) status = checkpointer->CreateCheckpoint(target.string(), 0);
    sentinel->Refill(db);
    if (!status.ok()) result = IoError(status);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::lock_guard lock(checkpoint_mutex);
  checkpoint_running = false;
  checkpoint.in_progress = false;
  checkpoint.last_ok = result.ok();
  checkpoint.last_seconds = seconds;
  if (result.ok()) {
    checkpoint.last_unix_seconds = UnixSecondsNow();
    checkpoint.last_path = target.string();
    ++checkpoint.count;
    if (path != nullptr) *path = target.string();
    spdlog::info("checkpoint saved in {} ({:.3f} s)", target.string(), seconds);
  } else {
    spdlog::error("checkpoint failed: {}", result.message());
  }
  return result;
}

Status Keyspace::Checkpoint(std::string* path) {
  impl_->CommitThreadGroup();  // a checkpoint holds what this thread wrote before it.
  {
    std::lock_guard lock(impl_->checkpoint_mutex);
    if (impl_->checkpoint_running) return Status(Code::kBusy);
    impl_->checkpoint_running = true;
  }
  return impl_->RunCheckpoint(path);
}

Status Keyspace::StartBackgroundCheckpoint() {
  Impl& impl = *impl_;
  impl.CommitThreadGroup();
  std::lock_guard lock(impl.checkpoint_mutex);
  if (impl.checkpoint_running) return Status(Code::kBusy);
  // The previous BGSAVE's thread has finished (it cleared checkpoint_running
  // and takes the mutex no more), so this join is immediate.
  if (impl.checkpoint_thread.joinable()) impl.checkpoint_thread.join();
  impl.checkpoint_running = true;
  impl.checkpoint.in_progress = true;
  impl.checkpoint_thread = std::thread([&impl] { impl.RunCheckpoint(nullptr); });
  return Status();
}

CheckpointInfo Keyspace::checkpoint_info() const {
  std::lock_guard lock(impl_->checkpoint_mutex);
  return impl_->checkpoint;
}

int64_t Keyspace::LastCheckpointUnixTime() const {
  std::lock_guard lock(impl_->checkpoint_mutex);
  return impl_->checkpoint.last_unix_seconds;
}

std::string Keyspace::DiskError() const {
  if (!impl_->disk_failing.load(std::memory_order_acquire)) return {};
  std::lock_guard lock(impl_->disk_mutex);
  return impl_->disk_failing.load() ? impl_->disk_error : std::string();
}

// --- Open and close ------------------------------------------------------------

Keyspace::Keyspace(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Keyspace::~Keyspace() = default;

Status Keyspace::Open(const OpenOptions& options, std::unique_ptr<Keyspace>* out,
                      OpenStats* stats) {
  const auto started = std::chrono::steady_clock::now();
  if (options.dir.empty()) return Status(Code::kIoError, "no data directory given");
  std::error_code error;
  std::filesystem::create_directories(options.dir, error);
  if (error) {
    return Status(Code::kIoError,
                  "cannot create data directory " + options.dir + ": " + error.message());
  }

  // The WAL files Open is about to replay (their names end in .log; RocksDB's
  // info log is LOG).
  uint64_t wal_files = 0;
  uint64_t wal_bytes = 0;
  for (const auto& entry : std::filesystem::directory_iterator(options.dir, error)) {
    std::error_code ignored;
    if (entry.path().extension() != ".log" || !entry.is_regular_file(ignored)) continue;
    ++wal_files;
    const uintmax_t size = entry.file_size(ignored);
    if (!ignored) wal_bytes += size;
  }

  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->cache = std::make_unique<CounterCache>(options.counter_cache_bytes);
  // Never fsync inline: in kAlways mode the WalSyncer's group commit does it.
  impl->write_options.sync = false;

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  // RocksDB opens its WAL files through the WalGuard (wal_syncer.h), so that
  // a full disk cannot make the syncer abort the process.
  impl->wal_guard = std::make_shared<WalGuard>();
  rocksdb::Env* base_env = options.env != nullptr ? options.env : rocksdb::Env::Default();
  impl->guarded_env = rocksdb::NewCompositeEnv(impl->wal_guard->Wrap(base_env->GetFileSystem()));
  db_options.env = impl->guarded_env.get();
  db_options.listeners.push_back(impl->sentinel);
  // RocksDB's own LOG aborts the process on the first line after the disk
  // filled up (info_log.h).
  db_options.info_log = OpenInfoLog(db_options.env, options.dir);
  // The meta family gets a few bytes per write and seldom fills a memtable,
  // so left alone it would pin every WAL file: force flushes past this much
  // WAL so that recovery after a crash replays a bounded amount.
  db_options.max_total_wal_size = 256u << 20;
  // Block-cache hits and misses for the metrics, and nothing else.
  db_options.statistics = std::make_shared<BlockCacheStatistics>();
  db_options.statistics->set_stats_level(rocksdb::StatsLevel::kExceptHistogramOrTimers);

  // One block cache for all column families; bloom filters on the data,
  // where point lookups dominate. The index is only iterated, meta is tiny.
  rocksdb::BlockBasedTableOptions table_options;
  table_options.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  impl->block_cache = table_options.block_cache;
  rocksdb::ColumnFamilyOptions scan_options;
  scan_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table_options));
  rocksdb::ColumnFamilyOptions meta_options = scan_options;
  meta_options.merge_operator = NewInt64AddOperator();
  table_options.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::ColumnFamilyOptions data_options;
  data_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table_options));

  const std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, data_options},
      {layout::kExpiryFamily, scan_options},
      {layout::kMetaFamily, meta_options},
  };
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::Status status =
      rocksdb::DB::Open(db_options, options.dir, families, &handles, &impl->db);
  if (!status.ok()) {
    if (IsLockHeld(status)) {
      return Status(Code::kIoError, "data directory " + options.dir +
                                        " is in use by another process (RocksDB LOCK is held)");
    }
    return IoError(status);
  }
  impl->db_options = db_options;
  impl->data = handles[0];
  impl->expiry = handles[1];
  impl->meta = handles[2];

  int64_t keys = 0;
  int64_t expiring = 0;
  int64_t last_cursor_id = 0;
  for (auto [key, value] :
       {std::pair{layout::kKeyCountKey, &keys}, std::pair{layout::kExpiringCountKey, &expiring},
        std::pair{layout::kLastCursorIdKey, &last_cursor_id}}) {
    Status loaded = impl->ReadMetaInt64(key, value);
    if (!loaded.ok()) return loaded;
  }
  impl->key_count = keys;
  impl->expiring_count = expiring;
  // Concurrent steps may record the last id out of order, so ids continue
  // after the larger of it and the highest cursor still stored.
  uint64_t highest_stored = 0;
  {
    BoundedIterator it(*impl, impl->meta, layout::PrefixSuccessor(layout::kCursorPrefix));
    it.SeekToLast();
    if (it.Valid()) layout::ParseCursorKey(it.key(), &highest_stored);
    if (!it.status().ok()) return IoError(it.status());
  }
  impl->last_cursor_id = std::max(static_cast<uint64_t>(last_cursor_id), highest_stored);

  impl->syncer = std::make_unique<WalSyncer>(
      impl->db, options.durability,
      [raw = impl.get()](const std::string& error) { raw->DiskFailed(error); }, impl->wal_guard);
  impl->sentinel->Start(impl->db, impl->meta, impl->syncer.get());
  impl->reaper = std::thread([raw = impl.get()] { raw->RunReaper(); });
  impl->disk_recovery = std::thread([raw = impl.get()] { raw->RunDiskRecovery(); });
  out->reset(new Keyspace(std::move(impl)));
  if (stats != nullptr) {
    stats->keys = (*out)->Size();
    stats->wal_files = wal_files;
    stats->wal_bytes = wal_bytes;
    stats->open_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  }
  return Status();
}

int64_t Keyspace::NowMs() const { return impl_->Now(); }

WalSyncer& Keyspace::syncer() { return *impl_->syncer; }

CounterCacheStats Keyspace::counter_cache_stats() const { return impl_->cache->stats(); }

StorageStats Keyspace::Stats() const {
  StorageStats out;
  rocksdb::DB* db = impl_->db;
  auto sum = [db](const std::string& property) {
    uint64_t value = 0;
    return db->GetAggregatedIntProperty(property, &value) ? value : 0;
  };
  out.memtable_bytes = sum(rocksdb::DB::Properties::kCurSizeAllMemTables);
  out.sst_bytes = sum(rocksdb::DB::Properties::kTotalSstFilesSize);
  out.pending_compaction_bytes = sum(rocksdb::DB::Properties::kEstimatePendingCompactionBytes);
  out.compactions_pending = sum(rocksdb::DB::Properties::kCompactionPending);
  // DB-wide figures: asked of one column family.
  uint64_t value = 0;
  if (db->GetIntProperty(rocksdb::DB::Properties::kNumRunningCompactions, &value)) {
    out.running_compactions = value;
  }
  if (db->GetIntProperty(rocksdb::DB::Properties::kNumRunningFlushes, &value)) {
    out.running_flushes = value;
  }
  if (const auto& statistics = impl_->db_options.statistics) {
    out.block_cache_hits = statistics->getTickerCount(rocksdb::BLOCK_CACHE_HIT);
    out.block_cache_misses = statistics->getTickerCount(rocksdb::BLOCK_CACHE_MISS);
  }
  if (impl_->block_cache) {
    out.block_cache_usage_bytes = impl_->block_cache->GetUsage();
    out.block_cache_capacity_bytes = impl_->block_cache->GetCapacity();
  }
  return out;
}

// --- Reads -----------------------------------------------------------------

Status Keyspace::Get(std::string_view key, std::string* value) {
  Slot slot;
  Status status = impl_->Load(key, NowMs(), &slot);
  if (!status.ok()) return status;
  if (!slot.live) return Status(Code::kNotFound);
  *value = slot.value.Text();
  return Status();
}

Status Keyspace::MGet(const std::vector<std::string_view>& keys,
                      std::vector<std::optional<std::string>>* values) {
  std::vector<Slot> slots;
  KeyLocks::Guard guard;
  Status status = impl_->LoadManyConsistent(keys, NowMs(), &guard, &slots);
  if (!status.ok()) return status;
  values->clear();
  values->reserve(slots.size());
  for (const Slot& slot : slots) {
    values->push_back(slot.live ? std::optional(slot.value.Text()) : std::nullopt);
  }
  return Status();
}

// The contract gives Exists, Type and the TTL reads no Status: a read error
// answers as if the key were missing.
int64_t Keyspace::Exists(const std::vector<std::string_view>& keys) {
  std::vector<Slot> slots;
  KeyLocks::Guard guard;
  if (!impl_->LoadManyConsistent(keys, NowMs(), &guard, &slots).ok()) return 0;
  return std::count_if(slots.begin(), slots.end(), [](const Slot& slot) { return slot.live; });
}

KeyType Keyspace::Type(std::string_view key) {
  Slot slot;
  if (!impl_->Load(key, NowMs(), &slot).ok() || !slot.live) return KeyType::kNone;
  return KeyTypeOf(slot.value.type);
}

int64_t Keyspace::TtlMs(std::string_view key) {
  const int64_t now = NowMs();
  Slot slot;
  if (!impl_->Load(key, now, &slot).ok() || !slot.live) return -2;
  return slot.value.expire_at_ms == 0 ? -1 : slot.value.expire_at_ms - now;
}

int64_t Keyspace::ExpireAtMs(std::string_view key) {
  Slot slot;
  if (!impl_->Load(key, NowMs(), &slot).ok() || !slot.live) return -2;
  return slot.value.expire_at_ms == 0 ? -1 : slot.value.expire_at_ms;
}

namespace {

// A count as the calling thread sees it: inside a transaction, with the
// transaction's own changes (and from zero after its FLUSH).
uint64_t VisibleCount(int64_t stored, const Transaction* transaction, int64_t Transaction::*delta) {
  if (transaction != nullptr) stored = (transaction->flushed ? 0 : stored) + transaction->*delta;
  return static_cast<uint64_t>(std::max<int64_t>(0, stored));
}

}  // namespace

// The in-memory counts include only committed writes: commit this thread's
// group first.
uint64_t Keyspace::Size() const {
  impl_->CommitThreadGroup();
  return VisibleCount(impl_->key_count.load(), impl_->ActiveTransaction(), &Transaction::key_delta);
}

uint64_t Keyspace::ExpiringSize() const {
  impl_->CommitThreadGroup();
  return VisibleCount(impl_->expiring_count.load(), impl_->ActiveTransaction(),
                      &Transaction::expiring_delta);
}

// --- Counters --------------------------------------------------------------

Status Keyspace::IncrBy(std::string_view key, int64_t delta, int64_t* result) {
  Mutation mutation(impl_.get());
  Slot slot;
  Status status = mutation.LockAndLoad(key, &slot);
  if (!status.ok()) return status;
  int64_t current = 0;
  if (slot.live) {
    status = IntegerOf(slot.value, &current);
    if (!status.ok()) return status;
  }
  // Checked before adding: signed overflow is undefined behaviour.
  if ((delta > 0 && current > LLONG_MAX - delta) || (delta < 0 && current < LLONG_MIN - delta)) {
    return Status(Code::kOverflow);
  }
  const int64_t expire_at = slot.live ? slot.value.expire_at_ms : 0;
  mutation.Put(key, slot, MakeInt(current + delta, expire_at));
  status = mutation.Commit();
  if (status.ok()) *result = current + delta;
  return status;
}

Status Keyspace::IncrByFloat(std::string_view key, long double delta, std::string* result) {
  Mutation mutation(impl_.get());
  Slot slot;
  Status status = mutation.LockAndLoad(key, &slot);
  if (!status.ok()) return status;
  long double current = 0;
  if (slot.live) {
    std::optional<long double> parsed = ParseLongDouble(slot.value.Text());
    if (!parsed) return Status(Code::kNotFloat);
    current = *parsed;
  }
  const long double sum = current + delta;
  if (std::isnan(sum) || std::isinf(sum)) return Status(Code::kNanOrInf);
  std::string text = FormatLongDoubleHuman(sum);
  const int64_t expire_at = slot.live ? slot.value.expire_at_ms : 0;
  mutation.Put(key, slot, MakeString(text, expire_at));
  status = mutation.Commit();
  if (status.ok()) *result = std::move(text);
  return status;
}

// --- Strings ---------------------------------------------------------------

Status Keyspace::Set(std::string_view key, std::string_view value, const SetOptions& options,
                     SetResult* result) {
  *result = SetResult();
  Mutation mutation(impl_.get());
  int64_t now = 0;
  Slot slot;
  Status status = mutation.LockAndLoad(key, &slot, &now);
  if (!status.ok()) return status;
  if (options.get_old && slot.live) result->old_value = slot.value.Text();
  if ((options.condition == SetCondition::kIfMissing && slot.live) ||
      (options.condition == SetCondition::kIfExists && !slot.live)) {
    return Status();
  }
  const int64_t expire_at =
      options.keep_ttl && slot.live ? slot.value.expire_at_ms : options.expire_at_ms;
  // A value born expired is never visible: store nothing (as ExpireAt does).
  if (IsExpired(expire_at, now)) {
    mutation.Delete(key, slot);
  } else {
    mutation.Put(key, slot, MakeString(value, expire_at));
  }
  status = mutation.Commit();
  result->applied = status.ok();
  return status;
}

Status Keyspace::MSet(const std::vector<std::pair<std::string_view, std::string_view>>& pairs) {
  bool applied = false;
  return impl_->SetMany(pairs, /*only_if_none_exist=*/false, &applied);
}

Status Keyspace::MSetNx(const std::vector<std::pair<std::string_view, std::string_view>>& pairs,
                        bool* applied) {
  return impl_->SetMany(pairs, /*only_if_none_exist=*/true, applied);
}

Status Keyspace::GetDel(std::string_view key, std::string* value) {
  Mutation mutation(impl_.get());
  Slot slot;
  Status status = mutation.LockAndLoad(key, &slot);
  if (!status.ok()) return status;
  if (!slot.live) return Status(Code::kNotFound);
  mutation.Delete(key, slot);
  status = mutation.Commit();
  if (status.ok()) *value = slot.value.Text();
  return status;
}

Status Keyspace::Strlen(std::string_view key, int64_t* length) {
  Slot slot;
  Status status = impl_->Load(key, NowMs(), &slot);
  if (!status.ok()) return status;
  *length = slot.live ? slot.value.TextLength() : 0;
  return Status();
}

// --- Keyspace --------------------------------------------------------------

Status Keyspace::Del(const std::vector<std::string_view>& keys, int64_t* deleted) {
  // A key named twice is deleted once and counted once, as in Redis.
  const std::vector<std::string_view> distinct = DistinctKeys(keys);
  Mutation mutation(impl_.get());
  Status status = mutation.Lock(distinct);
  if (!status.ok()) return status;
  std::vector<Slot> slots;
  status = impl_->LoadMany(distinct, NowMs(), /*keys_locked=*/true, &slots);
  if (!status.ok()) return status;
  int64_t live = 0;
  for (size_t i = 0; i < distinct.size(); ++i) {
    if (slots[i].live) ++live;
    mutation.Delete(distinct[i], slots[i]);  // expired ones go too, uncounted.
  }
  status = mutation.Commit();
  if (status.ok()) *deleted = live;
  return status;
}

Status Keyspace::ExpireAt(std::string_view key, int64_t at_ms, ExpireCondition condition,
                          bool* applied) {
  *applied = false;
  Mutation mutation(impl_.get());
  int64_t now = 0;
  Slot slot;
  Status status = mutation.LockAndLoad(key, &slot, &now);
  if (!status.ok()) return status;
  // Redis checks the condition before the deletion of a past time.
  if (!slot.live || !ExpireConditionHolds(condition, slot.value.expire_at_ms, at_ms)) {
    return Status();
  }
  if (at_ms <= now) {
    mutation.Delete(key, slot);
  } else {
    StoredValue next = slot.value;
    next.expire_at_ms = at_ms;
    mutation.Put(key, slot, next);
  }
  status = mutation.Commit();
  *applied = status.ok();
  return status;
}

Status Keyspace::Persist(std::string_view key, bool* applied) {
  *applied = false;
  Mutation mutation(impl_.get());
  Slot slot;
  Status status = mutation.LockAndLoad(key, &slot);
  if (!status.ok()) return status;
  if (!slot.live || slot.value.expire_at_ms == 0) return Status();
  StoredValue next = slot.value;
  next.expire_at_ms = 0;
  mutation.Put(key, slot, next);
  status = mutation.Commit();
  *applied = status.ok();
  return status;
}

// Holding every stripe keeps all other writers (and the reaper) out meanwhile.
Status Keyspace::Flush() {
  Mutation mutation(impl_.get());
  Status status = mutation.LockAll();
  if (!status.ok()) return status;
  mutation.DeleteAll();
  return mutation.Commit();
}

// KEYS and SCAN note their failures with the transaction they may run in, as
// Load does for the other reads: a transaction that met an I/O error writes
// nothing.
Status Keyspace::Keys(std::string_view pattern, std::vector<std::string>* keys) {
  impl_->CommitThreadGroup();  // iterators see RocksDB only.
  keys->clear();
  const int64_t now = NowMs();
  const std::string_view prefix = GlobLiteralPrefix(pattern);
  BoundedIterator it(*impl_, impl_->data, layout::PrefixSuccessor(prefix));
  for (it.Seek(prefix); it.Valid(); it.Next()) {
    bool visible = false;
    Status status = impl_->Visible(it.key(), it.value(), pattern, std::nullopt, now, &visible);
    if (!status.ok()) return impl_->Noted(status);
    if (visible) keys->emplace_back(it.key());
  }
  return it.status().ok() ? Status() : impl_->Noted(IoError(it.status()));
}

Status Keyspace::Scan(uint64_t cursor, std::string_view pattern, int64_t count,
                      std::optional<KeyType> type, ScanResult* result) {
  impl_->CommitThreadGroup();  // iterators see RocksDB only.
  *result = ScanResult();
  const int64_t now = NowMs();
  const std::string_view prefix = GlobLiteralPrefix(pattern);
  std::string start(prefix);
  if (cursor != 0) {
    std::string resume_at;
    Status status = impl_->LoadCursor(cursor, now, &resume_at);
    if (!status.ok()) return impl_->Noted(status);
    // The pattern may differ between steps; never go back before its prefix.
    start = std::max(start, resume_at);
  }

  BoundedIterator it(*impl_, impl_->data, layout::PrefixSuccessor(prefix));
  const int64_t budget = std::clamp<int64_t>(count, 1, kMaxScanCount);
  std::string last_key;
  it.Seek(start);
  for (int64_t examined = 0; it.Valid() && examined < budget; ++examined, it.Next()) {
    bool visible = false;
    Status status = impl_->Visible(it.key(), it.value(), pattern, type, now, &visible);
    if (!status.ok()) return impl_->Noted(status);
    if (visible) result->keys.emplace_back(it.key());
    last_key.assign(it.key());
  }
  if (!it.status().ok()) return impl_->Noted(IoError(it.status()));
  if (!it.Valid()) return Status();  // the range is exhausted: next_cursor 0.
  return impl_->Noted(impl_->SaveCursor(last_key, now, &result->next_cursor));
}

// --- Transactions ----------------------------------------------------------

Status Keyspace::Atomically(const std::vector<std::string_view>& keys, bool all_keys,
                            const std::function<void()>& body) {
  if (active_transaction != nullptr) {
    return Status(Code::kIoError, "Atomically cannot run inside another Atomically");
  }
  Impl& impl = *impl_;
  // The body's reads go through RocksDB and its locks must not wait for this
  // thread's own group.
  impl.CommitThreadGroup();
  // Sorted stripes, taken all at once before the body: the body never locks,
  // so two transactions (or a transaction and any other write) cannot
  // deadlock. Released only after the commit, with the counts updated.
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
  return transaction.Commit();
}

// --- Group commit ----------------------------------------------------------

Keyspace::GroupScope::GroupScope(Keyspace& keyspace, GroupListener& listener)
    : impl_(keyspace.impl_.get()) {
  WriteGroup* group = impl_->ThreadGroup();
  if (group == nullptr) {
    auto owned = std::make_unique<WriteGroup>(impl_);
    group = owned.get();
    {
      std::lock_guard lock(impl_->groups_mutex);
      impl_->groups.push_back(std::move(owned));
    }
    thread_group_slot = ThreadGroupSlot{impl_->id, group};
  }
  group->listener = &listener;
  group->in_scope = true;
}

Keyspace::GroupScope::~GroupScope() {
  if (WriteGroup* group = impl_->ThreadGroup()) group->in_scope = false;
}

Status Keyspace::CommitGroup() { return impl_->CommitThreadGroup(); }

void Keyspace::SetWriteObserver(WriteObserver observer) {
  impl_->write_observer = std::move(observer);
}

bool Keyspace::GroupWanted() const {
  const WriteGroup* group = impl_->ThreadGroup();
  return group != nullptr && group->stripes.wanted();
}

bool Keyspace::GroupPending() const {
  const WriteGroup* group = impl_->ThreadGroup();
  return group != nullptr && group->Pending();
}

}  // namespace tally::storage
