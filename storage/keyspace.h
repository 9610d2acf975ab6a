// The keyspace: Redis string keys (counters included) stored durably in
// RocksDB. Every method is thread-safe. Read-modify-write operations on a key
// are atomic with respect to every other operation on that key (striped key
// locks, no global lock). A method that returns Ok for a write has put the
// write in RocksDB's write-ahead log file before returning; when it is on
// stable storage is the WalSyncer's business (see syncer()).
//
// When the disk fails (full, I/O error, read-only), writes fail with
// kDiskError until a background thread has made RocksDB writable again;
// reads keep working (see DiskError()).
//
// Expiry follows Redis: a key past its expiry time is invisible to every read
// at once (lazy expiry) and is deleted physically by a background reaper that
// walks a time-ordered expiry index, so no full scan is ever needed.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/status.h"
#include "storage/wal_syncer.h"

namespace rocksdb {
class Env;
}

namespace tally::storage {

struct OpenOptions {
  std::string dir;  // created if missing.
  // When a write counts as acknowledged (see wal_syncer.h). In kAlways mode
  // writes return before the WAL is synced; callers hold their replies with
  // WhenDurable() until it is.
  Durability durability = Durability::kAlways;
  // The RocksDB environment; nullptr for the default. Tests inject one that
  // records which bytes were synced, to simulate power loss.
  rocksdb::Env* env = nullptr;
  size_t block_cache_bytes = 64u << 20;
  // Bytes for the in-memory cache of recently used keys' values in front of
  // RocksDB (counter_cache.h); 0 turns it off.
  size_t counter_cache_bytes = 64u << 20;
  // Milliseconds since the Unix epoch; tests replace it to control time.
  std::function<int64_t()> clock;
  // How often the reaper deletes expired keys and stale SCAN cursors.
  int reaper_interval_ms = 100;
  // How long an unused SCAN cursor stays valid.
  int64_t cursor_lifetime_ms = 24LL * 3600 * 1000;
};

// Information logged at start-up.
struct OpenStats {
  uint64_t keys = 0;
  double open_seconds = 0;
};

// What SAVE, BGSAVE, LASTSAVE and INFO report about checkpoints.
struct CheckpointInfo {
  bool in_progress = false;       // a background checkpoint is running.
  int64_t last_unix_seconds = 0;  // end of the last successful one; 0 if none.
  bool last_ok = true;            // whether the last attempt succeeded.
  double last_seconds = -1;       // how long the last attempt took; -1 if none.
  uint64_t count = 0;             // successful checkpoints since Open.
  std::string last_path;          // directory of the last successful one.
};

// RocksDB's own figures, for monitoring (the Prometheus exposition).
struct StorageStats {
  uint64_t memtable_bytes = 0;            // active and immutable memtables
  uint64_t sst_bytes = 0;                 // all SST files, including obsolete ones not yet deleted
  uint64_t pending_compaction_bytes = 0;  // RocksDB's estimate of what compaction must rewrite
  uint64_t compactions_pending = 0;       // column families waiting for a compaction
  uint64_t running_compactions = 0;
  uint64_t running_flushes = 0;
  uint64_t block_cache_hits = 0;  // lookups in the block cache since Open
  uint64_t block_cache_misses = 0;
  uint64_t block_cache_usage_bytes = 0;
  uint64_t block_cache_capacity_bytes = 0;
};

enum class SetCondition { kAlways, kIfMissing /* NX */, kIfExists /* XX */ };
// EXPIRE's NX/XX/GT/LT options. Every option that is set must hold, as in
// Redis 7: NX, the key has no expiry; XX, it has one; GT/LT, the new time is
// later/earlier than the current one, where no expiry counts as infinite (so
// GT fails and LT holds for it). XX may combine with GT or LT; the command
// layer rejects the combinations Redis rejects (NX with another, GT with LT).
// The default, no option, always holds.
struct ExpireCondition {
  bool nx = false;
  bool xx = false;
  bool gt = false;
  bool lt = false;
};

struct SetOptions {
  SetCondition condition = SetCondition::kAlways;
  // Absolute expiry in ms since the epoch; 0 means none (the TTL is cleared
  // unless keep_ttl).
  int64_t expire_at_ms = 0;
  bool keep_ttl = false;
  // Return the previous value (SET ... GET, GETSET).
  bool get_old = false;
};

struct SetResult {
  bool applied = false;                  // false when NX/XX prevented the write.
  std::optional<std::string> old_value;  // filled when get_old and the key existed.
};

struct ScanResult {
  uint64_t next_cursor = 0;  // 0 when the iteration is complete.
  std::vector<std::string> keys;
};

enum class KeyType { kNone, kString };

// What an UpdateString callback decides for its destination key (the first
// key passed).
struct StringUpdate {
  enum class Action {
    kNone,    // write nothing.
    kStore,   // store `value` (integer-encoded when canonical, as SET does).
    kDelete,  // remove the key (nothing to do when it is missing).
  };
  // kStore's expiry: keep the key's current one (none for a new key).
  static constexpr int64_t kKeepTtl = -1;
  Action action = Action::kNone;
  std::string value;
  // kStore: kKeepTtl, 0 for no expiry, or an absolute time in ms since the
  // epoch (in the future: the caller deletes for a time in the past).
  int64_t expire_at_ms = kKeepTtl;
};
// Called with the keys' values as GET returns them (nullopt: missing or
// expired) and their expiry times (0: none), both in the order the keys
// were given (a key given twice appears twice).
using StringUpdater =
    std::function<StringUpdate(const std::vector<std::optional<std::string>>& values,
                               const std::vector<int64_t>& expire_at_ms)>;

// The in-memory cache of recently used keys' values (counter_cache.h).
struct CounterCacheStats {
  size_t capacity_bytes = 0;  // OpenOptions::counter_cache_bytes.
  size_t bytes = 0;           // charged to the entries cached now; <= capacity_bytes.
  size_t entries = 0;
  uint64_t hits = 0;  // lookups that found their key.
  uint64_t misses = 0;
};

// Learns of a thread's write-group commits (Keyspace::GroupScope).
class GroupListener {
 public:
  virtual ~GroupListener() = default;
  // Called on the group's thread after every commit of its group, early ones
  // included. `status` is the commit's: Ok means every pending write reached
  // RocksDB, anything else that none did. Must not call the keyspace.
  virtual void OnGroupCommitted(const Status& status) = 0;
};

class Keyspace {
 public:
  // Internal state, defined in keyspace_impl.h.
  struct Impl;

  // Opens (creating if needed) the keyspace in options.dir. Fails with a clear
  // message when another process holds the directory.
  static Status Open(const OpenOptions& options, std::unique_ptr<Keyspace>* out,
                     OpenStats* stats = nullptr);
  // Stops the reaper and closes RocksDB cleanly.
  ~Keyspace();
  Keyspace(const Keyspace&) = delete;
  Keyspace& operator=(const Keyspace&) = delete;

  // --- Reads -------------------------------------------------------------
  // The value exactly as Redis's GET would return it: an integer-encoded
  // counter comes back as its canonical decimal text.
  Status Get(std::string_view key, std::string* value);
  // One entry per key, nullopt for missing keys.
  Status MGet(const std::vector<std::string_view>& keys,
              std::vector<std::optional<std::string>>* values);
  // Number of the given keys that exist (a key named twice counts twice).
  int64_t Exists(const std::vector<std::string_view>& keys);
  KeyType Type(std::string_view key);
  // Remaining time to live in ms; -1 if the key has no expiry, -2 if missing.
  int64_t TtlMs(std::string_view key);
  // Absolute expiry in ms; -1 if the key has no expiry, -2 if missing.
  int64_t ExpireAtMs(std::string_view key);
  // Number of keys (Redis's DBSIZE). Keys whose expiry has passed but which
  // the reaper has not deleted yet still count, as they do in Redis.
  uint64_t Size() const;
  // Number of keys that have an expiry set.
  uint64_t ExpiringSize() const;

  // --- Counters ----------------------------------------------------------
  // Adds `delta` to the integer at `key` (missing keys count as 0), keeping
  // its TTL, and stores the result in *result. kNotInteger if the value is not
  // an integer by Redis's rules, kOverflow if the sum leaves int64.
  Status IncrBy(std::string_view key, int64_t delta, int64_t* result);
  // INCRBYFLOAT: *result is the new value formatted as Redis formats it,
  // stored as that text. kNotFloat, kNanOrInf as Redis.
  Status IncrByFloat(std::string_view key, long double delta, std::string* result);

  // --- Strings -----------------------------------------------------------
  Status Set(std::string_view key, std::string_view value, const SetOptions& options,
             SetResult* result);
  // Sets every pair in one atomic write; later pairs win over earlier ones
  // with the same key. TTLs of overwritten keys are cleared.
  Status MSet(const std::vector<std::pair<std::string_view, std::string_view>>& pairs);
  // MSETNX: sets all pairs only if none of the keys exists; *applied says
  // whether it did.
  Status MSetNx(const std::vector<std::pair<std::string_view, std::string_view>>& pairs,
                bool* applied);
  // Removes the key and returns its value (kNotFound if missing).
  Status GetDel(std::string_view key, std::string* value);
  // Length of the value as GET would return it; 0 if missing.
  Status Strlen(std::string_view key, int64_t* length);

  // --- Read-modify-write of string values (string_update.cc) ------------
  // The building block of commands that compute a string from strings
  // (APPEND, SETRANGE, SETBIT, BITFIELD, BITOP, PFADD, PFMERGE, GETEX):
  // locks `keys` (keys[0] is the destination, the others are read; a key may
  // repeat), reads them, calls `update` once and applies its decision to
  // keys[0], atomically with respect to every other operation on those
  // keys. `update` runs under the key locks: it must not call the keyspace
  // and should be quick. kNone writes nothing and tells no write observer.
  Status UpdateString(const std::vector<std::string_view>& keys, const StringUpdater& update);

  // --- Keyspace ----------------------------------------------------------
  // Deletes the keys; *deleted counts those that existed.
  Status Del(const std::vector<std::string_view>& keys, int64_t* deleted);
  // Sets the absolute expiry (ms since epoch) subject to `condition`, as
  // EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT do; a time not in the future deletes
  // the key. *applied is false when the key is missing or the condition
  // fails. The condition is checked and the expiry set under the key's lock.
  Status ExpireAt(std::string_view key, int64_t at_ms, ExpireCondition condition, bool* applied);
  // Removes the expiry; *applied is true if the key had one.
  Status Persist(std::string_view key, bool* applied);
  // Deletes every key.
  Status Flush();

  // Every live key matching the glob `pattern`, in key order. A literal
  // prefix of the pattern turns into a seek, so `usage:*` touches only keys
  // under `usage:`.
  Status Keys(std::string_view pattern, std::vector<std::string>* keys);
  // One SCAN step. `cursor` 0 starts an iteration; any other value must be a
  // cursor returned by the iteration's latest step, or the one before it (a
  // repeated step), and stays valid while the iteration is used at least
  // every cursor_lifetime_ms, and across restarts while the disk takes
  // writes (scan_cursors.h). Examines about `count` keys and returns those
  // matching the glob `pattern` (an empty pattern matches only the empty key,
  // as in Redis; "*" matches all) and of type `type` (nullopt: any). Every
  // key that exists for the whole iteration is returned at least once.
  // Unknown cursors give kInvalidCursor. A failing disk does not fail it.
  Status Scan(uint64_t cursor, std::string_view pattern, int64_t count, std::optional<KeyType> type,
              ScanResult* result);

  // --- Transactions (MULTI/EXEC) ------------------------------------------
  // Runs `body` on the calling thread so that every keyspace operation it
  // makes on this Keyspace from this thread is applied as one atomic RocksDB
  // WriteBatch when `body` returns: other clients see all of it or none of
  // it, and so does recovery after a crash.
  //
  // The stripes of `keys` (every stripe with `all_keys`) are locked, in
  // order, before `body` runs and released after the commit, so no other
  // write and no reaping of those keys interleaves. Inside `body`:
  //  - operations see the effects of earlier ones (reads included: Get,
  //    MGet, Exists, Type, TtlMs, Keys, Scan, Size);
  //  - the clock stands still at the time `body` started, as in Redis 7's
  //    EXEC, so a key cannot expire between two operations of the body;
  //  - an operation that writes a key not in `keys` locks nothing (that
  //    could deadlock) and writes nothing: it fails with kIoError, and the
  //    whole transaction is abandoned. Callers must pass every key `body`
  //    writes; Flush needs `all_keys`. Reads need no lock and may touch any
  //    key, as outside a transaction;
  //  - an operation's ordinary error (kNotInteger, kOverflow, ...) fails
  //    that operation only; the others still commit (Redis's EXEC
  //    semantics);
  //  - an I/O error in any operation abandons the transaction: nothing is
  //    written, and Atomically returns that error.
  // Returns the status of the commit. A SCAN inside `body` stores its cursor
  // state at once, outside the batch (cursors are bookkeeping, not keys).
  // `body` must not call Atomically again (kIoError, body not run), and
  // should not use another Keyspace's write operations (their locks are not
  // ordered with these). If `body` throws, nothing is written and the
  // exception propagates.
  Status Atomically(const std::vector<std::string_view>& keys, bool all_keys,
                    const std::function<void()>& body);

  // --- Group commit --------------------------------------------------------
  // While a GroupScope is alive on a thread, that thread's writes are not
  // written one by one: they join the thread's write group, one WriteBatch
  // whose keys stay locked until the group is committed, so a pipeline of
  // INCRs (or the INCRs of every client an I/O thread serves in one turn)
  // costs one RocksDB write and one WAL append.
  //
  // A write that returns Ok inside a scope is pending: later operations in
  // scopes on this thread see it, other threads do not, and nothing that
  // reflects it may reach a client until a commit of the group has been
  // reported Ok to the listener. If a commit fails, none of its writes was
  // applied. Reads in a scope may reflect pending writes too, so replies to
  // them wait for the same commit.
  //
  // Writes that the disk is known to refuse fail at once (kDiskError), as
  // outside a scope. Every read on the thread sees the group's pending
  // writes (Get, MGet, Keys, Scan, Size...). The keyspace commits a group
  // early, by itself, before the thread would wait for a key lock another
  // thread holds (so two threads' groups never deadlock), when the batch
  // passes 16 MB, and before a write outside a scope, Atomically, FLUSH and
  // the checkpoints.
  class GroupScope {
   public:
    // `listener` hears of this thread's commits; it must outlive the
    // thread's last commit.
    GroupScope(Keyspace& keyspace, GroupListener& listener);
    ~GroupScope();
    GroupScope(const GroupScope&) = delete;
    GroupScope& operator=(const GroupScope&) = delete;

   private:
    Impl* impl_;
  };
  // Commits the calling thread's pending group (Ok when nothing is pending),
  // tells its listener, and releases its locks. Call it before the thread
  // waits for anything another thread may need this thread's locks for, and
  // before the keyspace is destroyed.
  Status CommitGroup();
  // Whether the calling thread has a group with uncommitted writes (or held
  // locks).
  bool GroupPending() const;
  // Whether another thread is waiting for a key lock the calling thread's
  // group holds: a good moment to commit is now, not at the end of the turn.
  bool GroupWanted() const;

  // Milliseconds since the epoch by this keyspace's clock (frozen inside
  // Atomically's body).
  int64_t NowMs() const;

  // --- Checkpoints (SAVE / BGSAVE) and disk errors ------------------------
  // Takes an online checkpoint: flushes the memtables, then hard-links every
  // live file (copying only the small MANIFEST, OPTIONS and WAL tail) into a
  // new directory <dir>/checkpoints/<UTC time, e.g. 20261125T153000Z> (with
  // a "-N" suffix if that name is taken). The directory is a complete data
  // directory: tally-server --dir <copy of it> starts with exactly the data
  // that was visible when the checkpoint began. Writes continue meanwhile.
  // Blocks the caller for one memtable flush plus the links; kBusy if
  // another checkpoint is running. On success *path is the directory.
  Status Checkpoint(std::string* path);
  // The same on a background thread owned by this keyspace: returns at once,
  // kBusy if a checkpoint is running. The result shows in checkpoint_info()
  // and the log.
  Status StartBackgroundCheckpoint();
  CheckpointInfo checkpoint_info() const;
  // Unix seconds at the end of the last successful checkpoint, 0 if none.
  int64_t LastCheckpointUnixTime() const;

  // Non-empty while writes are refused because the disk failed: the error
  // RocksDB reported. A background thread retries (DB::Resume) every second
  // and clears it once the disk takes writes again.
  std::string DiskError() const;

  // The counter cache's size and hit counts (for INFO and tests).
  CounterCacheStats counter_cache_stats() const;

  // RocksDB's figures (summed over the column families). Cheap enough to
  // call on every metrics scrape; never blocks writers.
  StorageStats Stats() const;

  // The WAL syncer for OpenOptions::durability. In kAlways mode a reply that
  // may reflect writes is held until
  // syncer().WhenDurable(syncer().VisibleSequence(), ...) calls back.
  WalSyncer& syncer();

  // Called with each key that a write changes (stores, overwrites or
  // deletes), while the key is still locked, so a reader that takes the lock
  // afterwards cannot miss it: EXEC checking its WATCHed keys. The writes of
  // a group (GroupScope) are reported when it commits successfully: until
  // then other threads cannot see them and their keys stay locked. A write that
  // changes nothing (SET NX on an existing key, INCR of a non-number, DEL of
  // a missing key) calls nothing, as Redis signals only real modifications;
  // neither does the removal of expired keys (a watcher tracks expiry
  // itself) nor FLUSH. Set it before serving and reset it before the
  // observer goes; no client write may run meanwhile.
  using WriteObserver = std::function<void(std::string_view key)>;
  void SetWriteObserver(WriteObserver observer);

 private:
  explicit Keyspace(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tally::storage
