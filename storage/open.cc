// Opening the keyspace: RocksDB's options and column families, the counts
// and the background jobs; closing it; RocksDB's figures for monitoring.
#include <chrono>
#include <filesystem>

#include <rocksdb/cache.h>
#include <rocksdb/env.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/statistics.h>
#include <rocksdb/table.h>

#include "storage/info_log.h"
#include "storage/keyspace_impl.h"
#include "storage/layout.h"
#include "storage/memtable_sentinel.h"
#include "storage/merge_operators.h"
#include "storage/write_group.h"

namespace tally::storage {
namespace {

// RocksDB reports a held LOCK file as an IOError with one of these texts
// (another process: fcntl failed; this process: its own lock table).
bool IsLockHeld(const rocksdb::Status& status) {
  const std::string text = status.ToString();
  return status.IsIOError() && (text.find("While lock file") != std::string::npos ||
                                text.find("lock hold by current process") != std::string::npos);
}

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

Keyspace::Impl::~Impl() {
  // The background jobs need the DB open.
  checkpoints.Join();
  disk.Stop();
  reaper.Stop();
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

  auto impl = std::make_unique<Impl>();
  impl->sentinel = std::make_shared<KeepMemtableNonEmpty>();
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
  // RocksDB's own LOG aborts the process on the first line after the disk
  // filled up (info_log.h).
  db_options.info_log = OpenInfoLog(db_options.env, options.dir);
  db_options.listeners.push_back(impl->sentinel);
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
  for (auto [key, value] :
       {std::pair{layout::kKeyCountKey, &keys}, std::pair{layout::kExpiringCountKey, &expiring}}) {
    Status loaded = impl->ReadMetaInt64(key, value);
    if (!loaded.ok()) return loaded;
  }
  impl->key_count = keys;
  impl->expiring_count = expiring;
  if (Status cursors = impl->cursors.Open(); !cursors.ok()) return cursors;

  impl->syncer = std::make_unique<WalSyncer>(
      impl->db, options.durability,
      [raw = impl.get()](const std::string& error) { raw->disk.Failed(error); }, impl->wal_guard);
  impl->sentinel->Start(impl->db, impl->meta, impl->syncer.get());
  impl->reaper.Start();
  impl->disk.Start();
  out->reset(new Keyspace(std::move(impl)));
  if (stats != nullptr) {
    stats->keys = (*out)->Size();
    stats->open_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  }
  return Status();
}

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

Status Keyspace::Checkpoint(std::string* path) {
  impl_->CommitThreadGroup();  // a checkpoint holds what this thread wrote before it.
  return impl_->checkpoints.Take(path);
}

Status Keyspace::StartBackgroundCheckpoint() {
  impl_->CommitThreadGroup();
  return impl_->checkpoints.StartBackground();
}

CheckpointInfo Keyspace::checkpoint_info() const { return impl_->checkpoints.info(); }

int64_t Keyspace::LastCheckpointUnixTime() const {
  return impl_->checkpoints.info().last_unix_seconds;
}

std::string Keyspace::DiskError() const { return impl_->disk.Error(); }

}  // namespace tally::storage
