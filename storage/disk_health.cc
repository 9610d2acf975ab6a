#include "storage/disk_health.h"

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <spdlog/spdlog.h>

#include "storage/keyspace_impl.h"
#include "storage/layout.h"
#include "storage/memtable_sentinel.h"

namespace tally::storage {

void DiskHealth::Start() {
  thread_ = std::thread([this] { Run(); });
}

void DiskHealth::Stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

Status DiskHealth::CheckWritable() const {
  if (!failing_.load(std::memory_order_acquire)) return Status();
  std::lock_guard lock(mu_);
  if (!failing_.load()) return Status();  // recovered meanwhile
  return Status(Code::kDiskError, error_);
}

Status DiskHealth::Failed(const std::string& error) {
  {
    std::lock_guard lock(mu_);
    if (!failing_.load()) {
      error_ = error;
      failed_at_ = std::chrono::steady_clock::now();
      failing_.store(true, std::memory_order_release);
      spdlog::error(
          "writing to the data directory failed: {}. Refusing writes until the disk is writable "
          "again (retrying every second); reads keep working",
          error);
    }
  }
  wake_.notify_all();
  return Status(Code::kDiskError, error);
}

std::string DiskHealth::Error() const {
  if (!failing_.load(std::memory_order_acquire)) return {};
  std::lock_guard lock(mu_);
  return failing_.load() ? error_ : std::string();
}

rocksdb::Status DiskHealth::TryRecover() {
  rocksdb::DB* db = impl_.db;
  // First a small synced file through RocksDB's own file system: resuming
  // flushes the memtables, and a flush that fails while RocksDB recovers can
  // make its error fatal (only a restart clears that), so try it only once
  // the disk takes writes.
  rocksdb::Env* env = db->GetEnv();
  const std::string probe_file = impl_.options.dir + "/disk-probe.tmp";
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
  status = db->Flush(flush, {impl_.data, impl_.expiry, impl_.meta});
  impl_.sentinel->Refill(db);
  if (!status.ok()) return status;
  // The new WAL must take a synced write before clients' writes are taken.
  rocksdb::WriteOptions probe;
  probe.sync = true;
  status = db->Put(probe, impl_.meta, layout::kDiskProbeKey,
                   layout::EncodeInt64(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count()));
  if (!status.ok()) return status;
  impl_.syncer->MarkRecovered(flushed_up_to);
  return rocksdb::Status::OK();
}

void DiskHealth::Run() {
  using namespace std::chrono_literals;
  std::unique_lock lock(mu_);
  auto last_report = std::chrono::steady_clock::time_point();
  bool fatal_reported = false;
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || failing_.load(); });
    if (stopping_) return;
    if (wake_.wait_for(lock, 1s, [this] { return stopping_; })) return;
    lock.unlock();
    const rocksdb::Status status = TryRecover();
    lock.lock();
    const auto now = std::chrono::steady_clock::now();
    if (status.ok()) {
      spdlog::warn("the data directory is writable again after {:.1f} s; accepting writes",
                   std::chrono::duration<double>(now - failed_at_).count());
      error_.clear();
      failing_.store(false, std::memory_order_release);
    } else if (status.severity() >= rocksdb::Status::Severity::kFatalError && !fatal_reported) {
      fatal_reported = true;
      spdlog::critical(
          "RocksDB cannot resume writing without a restart: {}. Reads keep working; restart "
          "tally-server once the disk is fixed (nothing acknowledged is lost)",
          status.ToString());
    } else if (now - last_report >= 30s) {
      last_report = now;
      spdlog::error("the data directory is still not writable ({:.0f} s): {}",
                    std::chrono::duration<double>(now - failed_at_).count(), status.ToString());
    }
  }
}

}  // namespace tally::storage
