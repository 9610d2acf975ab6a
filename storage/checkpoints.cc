#include "storage/checkpoints.h"

#include <chrono>
#include <ctime>
#include <filesystem>

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/utilities/checkpoint.h>
#include <spdlog/spdlog.h>

#include "storage/keyspace_impl.h"
#include "storage/memtable_sentinel.h"

namespace tally::storage {
namespace {

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

// fsync of a directory, so that the entries created or renamed in it
// survive a power loss. RocksDB syncs the files of a checkpoint and renames
// its temporary directory into place, but never syncs the parent: without
// this a checkpoint could come back after power loss as an empty *.tmp.
// Through RocksDB's file system, so tests that record syncs see it.
Status SyncDirectory(rocksdb::Env* env, const std::filesystem::path& dir) {
  const std::shared_ptr<rocksdb::FileSystem>& fs = env->GetFileSystem();
  std::unique_ptr<rocksdb::FSDirectory> handle;
  rocksdb::IOStatus status = fs->NewDirectory(dir.string(), rocksdb::IOOptions(), &handle, nullptr);
  if (status.ok()) status = handle->Fsync(rocksdb::IOOptions(), nullptr);
  if (status.ok()) status = handle->Close(rocksdb::IOOptions(), nullptr);
  if (!status.ok())
    return Status(Code::kIoError,
                  "cannot sync directory " + dir.string() + ": " + status.ToString());
  return Status();
}

}  // namespace

Status Checkpoints::Run(std::string* path) {
  const auto started = std::chrono::steady_clock::now();
  const std::filesystem::path data_dir(impl_.options.dir);
  const std::filesystem::path parent = data_dir / "checkpoints";
  Status result;
  std::error_code error;
  const bool created = std::filesystem::create_directories(parent, error);
  std::filesystem::path target;
  if (error) {
    result = Status(Code::kIoError, "cannot create " + parent.string() + ": " + error.message());
  } else {
    // Unique even for two checkpoints within one second. Only one runs at a
    // time (running_), so the name cannot be taken meanwhile.
    const std::string name = CheckpointName(std::chrono::system_clock::now());
    target = parent / name;
    for (int n = 1; std::filesystem::exists(target, error); ++n) {
      target = parent / (name + "-" + std::to_string(n));
    }
    rocksdb::Checkpoint* raw = nullptr;
    rocksdb::Status status = rocksdb::Checkpoint::Create(impl_.db, &raw);
    std::unique_ptr<rocksdb::Checkpoint> checkpointer(raw);
    // log_size_for_flush 0: always flush the memtables first, so the
    // checkpoint is table files (hard links) and an almost empty WAL.
    if (status.ok()) status = checkpointer->CreateCheckpoint(target.string(), 0);
    impl_.sentinel->Refill(impl_.db);
    if (!status.ok()) result = IoError(status);
    // The rename into checkpoints/, and checkpoints/ itself if new.
    if (result.ok()) result = SyncDirectory(impl_.db->GetEnv(), parent);
    if (result.ok() && created) result = SyncDirectory(impl_.db->GetEnv(), data_dir);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::lock_guard lock(mu_);
  running_ = false;
  info_.in_progress = false;
  info_.last_ok = result.ok();
  info_.last_seconds = seconds;
  if (result.ok()) {
    info_.last_unix_seconds = UnixSecondsNow();
    info_.last_path = target.string();
    ++info_.count;
    if (path != nullptr) *path = target.string();
    spdlog::info("checkpoint saved in {} ({:.3f} s)", target.string(), seconds);
  } else {
    spdlog::error("checkpoint failed: {}", result.message());
  }
  return result;
}

Status Checkpoints::Take(std::string* path) {
  {
    std::lock_guard lock(mu_);
    if (running_) return Status(Code::kBusy);
    running_ = true;
  }
  return Run(path);
}

Status Checkpoints::StartBackground() {
  std::lock_guard lock(mu_);
  if (running_) return Status(Code::kBusy);
  // The previous BGSAVE's thread has finished (it cleared running_ and takes
  // the mutex no more), so this join is immediate.
  if (thread_.joinable()) thread_.join();
  running_ = true;
  info_.in_progress = true;
  thread_ = std::thread([this] { Run(nullptr); });
  return Status();
}

void Checkpoints::Join() {
  if (thread_.joinable()) thread_.join();
}

CheckpointInfo Checkpoints::info() const {
  std::lock_guard lock(mu_);
  return info_;
}

}  // namespace tally::storage
