#include "tests/durability/sync_tracking_fs.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <mutex>
#include <string_view>
#include <thread>
#include <utility>

namespace tally::testing {
namespace {

using rocksdb::DirFsyncOptions;
using rocksdb::FileOptions;
using rocksdb::FSDirectory;
using rocksdb::FSRandomRWFile;
using rocksdb::FSWritableFile;
using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

// The journal identifies files by absolute path, whatever RocksDB was given.
std::string Absolute(const std::string& path) {
  std::error_code error;
  std::filesystem::path absolute = std::filesystem::absolute(path, error);
  return (error ? std::filesystem::path(path) : absolute).lexically_normal().string();
}

void AppendEncoded(std::string_view field, std::string* out) {
  for (char c : field) {
    switch (c) {
      case '%':
        out->append("%25");
        break;
      case '\t':
        out->append("%09");
        break;
      case '\n':
        out->append("%0A");
        break;
      case '\r':
        out->append("%0D");
        break;
      default:
        out->push_back(c);
    }
  }
}

// The journal file. Each record goes out in one write() to a file opened with
// O_APPEND, so records never interleave and a record that reached the file
// survives SIGKILL (the page cache outlives the process).
class Journal {
 public:
  static std::shared_ptr<Journal> Open(const std::string& path, std::string* error) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
      *error = "cannot open sync journal " + path + ": " + std::strerror(errno);
      return nullptr;
    }
    return std::shared_ptr<Journal>(new Journal(fd, path));
  }
  ~Journal() { ::close(fd_); }
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  void Record(std::initializer_list<std::string_view> fields) {
    const auto now = std::chrono::steady_clock::now().time_since_epoch();
    std::string line =
        std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count());
    for (std::string_view field : fields) {
      line.push_back('\t');
      AppendEncoded(field, &line);
    }
    line.push_back('\n');
    std::lock_guard lock(mu_);
    size_t done = 0;
    while (done < line.size()) {
      ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        // A lost record would make the replay wrong in either direction, so
        // the test must not go on as if nothing happened.
        std::fprintf(stderr, "sync journal %s: write failed: %s\n", path_.c_str(),
                     std::strerror(errno));
        std::abort();
      }
      done += static_cast<size_t>(n);
    }
  }

  // A fresh path next to the journal for keeping a file a rename replaces.
  std::string NewBackupPath() { return path_ + ".bak" + std::to_string(backups_.fetch_add(1) + 1); }

 private:
  Journal(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}

  const int fd_;
  const std::string path_;
  std::mutex mu_;
  std::atomic<uint64_t> backups_{0};
};

// A file being written. It counts the bytes handed to the operating system;
// a Sync() covers what had been appended when it started (fdatasync covers
// every write() that returned before it), never bytes appended concurrently.
class TrackedWritableFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  TrackedWritableFile(std::unique_ptr<FSWritableFile> target, std::shared_ptr<Journal> journal,
                      std::string path, uint64_t size, std::chrono::milliseconds sync_delay)
      : FSWritableFileOwnerWrapper(std::move(target)),
        journal_(std::move(journal)),
        path_(std::move(path)),
        sync_delay_(sync_delay),
        size_(size) {}

  IOStatus Append(const Slice& data, const IOOptions& options, IODebugContext* dbg) override {
    IOStatus status = target()->Append(data, options, dbg);
    if (status.ok()) size_.fetch_add(data.size());
    return status;
  }
  IOStatus Append(const Slice& data, const IOOptions& options,
                  const rocksdb::DataVerificationInfo& info, IODebugContext* dbg) override {
    IOStatus status = target()->Append(data, options, info, dbg);
    if (status.ok()) size_.fetch_add(data.size());
    return status;
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& options,
                            IODebugContext* dbg) override {
    IOStatus status = target()->PositionedAppend(data, offset, options, dbg);
    if (status.ok()) GrowTo(offset + data.size());
    return status;
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& options,
                            const rocksdb::DataVerificationInfo& info,
                            IODebugContext* dbg) override {
    IOStatus status = target()->PositionedAppend(data, offset, options, info, dbg);
    if (status.ok()) GrowTo(offset + data.size());
    return status;
  }
  IOStatus Truncate(uint64_t size, const IOOptions& options, IODebugContext* dbg) override {
    IOStatus status = target()->Truncate(size, options, dbg);
    if (status.ok()) {
      size_.store(size);
      journal_->Record({"truncate", path_, std::to_string(size)});
    }
    return status;
  }
  IOStatus Sync(const IOOptions& options, IODebugContext* dbg) override {
    const uint64_t covered = size_.load();
    SlowDisk();
    return Synced(target()->Sync(options, dbg), covered);
  }
  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    const uint64_t covered = size_.load();
    SlowDisk();
    return Synced(target()->Fsync(options, dbg), covered);
  }
  // RangeSync (sync_file_range) is forwarded but not recorded: it neither
  // flushes the drive's cache nor the file's metadata, so it promises nothing
  // after a power cut, and RocksDB never relies on it for durability.

 private:
  void SlowDisk() const {
    if (sync_delay_.count() > 0) std::this_thread::sleep_for(sync_delay_);
  }
  void GrowTo(uint64_t end) {
    uint64_t size = size_.load();
    while (size < end && !size_.compare_exchange_weak(size, end)) {
    }
  }
  IOStatus Synced(IOStatus status, uint64_t covered) {
    if (status.ok()) journal_->Record({"sync", path_, std::to_string(covered)});
    return status;
  }

  const std::shared_ptr<Journal> journal_;
  const std::string path_;
  const std::chrono::milliseconds sync_delay_;
  std::atomic<uint64_t> size_;
};

class TrackedDirectory : public rocksdb::FSDirectoryWrapper {
 public:
  TrackedDirectory(std::unique_ptr<FSDirectory> target, std::shared_ptr<Journal> journal,
                   std::string path)
      : FSDirectoryWrapper(std::move(target)),
        journal_(std::move(journal)),
        path_(std::move(path)) {}

  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    return Synced(FSDirectoryWrapper::Fsync(options, dbg));
  }
  IOStatus FsyncWithDirOptions(const IOOptions& options, IODebugContext* dbg,
                               const DirFsyncOptions& dir_options) override {
    return Synced(FSDirectoryWrapper::FsyncWithDirOptions(options, dbg, dir_options));
  }

 private:
  IOStatus Synced(IOStatus status) {
    if (status.ok()) journal_->Record({"dirsync", path_});
    return status;
  }

  const std::shared_ptr<Journal> journal_;
  const std::string path_;
};

class SyncTrackingFileSystem : public rocksdb::FileSystemWrapper {
 public:
  SyncTrackingFileSystem(const std::shared_ptr<rocksdb::FileSystem>& base,
                         std::shared_ptr<Journal> journal, std::chrono::milliseconds wal_sync_delay)
      : FileSystemWrapper(base), journal_(std::move(journal)), wal_sync_delay_(wal_sync_delay) {}

  const char* Name() const override { return "SyncTrackingFileSystem"; }

  IOStatus NewWritableFile(const std::string& name, const FileOptions& options,
                           std::unique_ptr<FSWritableFile>* result, IODebugContext* dbg) override {
    const bool existed = target()->FileExists(name, IOOptions(), nullptr).ok();
    IOStatus status = target()->NewWritableFile(name, options, result, dbg);
    if (status.ok()) {
      const std::string path = Absolute(name);
      journal_->Record({"create", path, existed ? "1" : "0"});
      *result = std::make_unique<TrackedWritableFile>(std::move(*result), journal_, path, 0,
                                                      SyncDelay(path));
    }
    return status;
  }

  IOStatus ReopenWritableFile(const std::string& name, const FileOptions& options,
                              std::unique_ptr<FSWritableFile>* result,
                              IODebugContext* dbg) override {
    uint64_t size = 0;
    const bool existed = target()->GetFileSize(name, IOOptions(), &size, nullptr).ok();
    IOStatus status = target()->ReopenWritableFile(name, options, result, dbg);
    if (status.ok()) {
      const std::string path = Absolute(name);
      if (existed) {
        journal_->Record({"reopen", path, std::to_string(size)});
      } else {
        journal_->Record({"create", path, "0"});
        size = 0;
      }
      *result = std::make_unique<TrackedWritableFile>(std::move(*result), journal_, path, size,
                                                      SyncDelay(path));
    }
    return status;
  }

  // Recycled WAL files and random-access writes overwrite bytes in place,
  // which a replay that only cuts files at their synced length cannot model.
  // Tally's options use neither; if that ever changes, the replay refuses the
  // journal instead of silently passing.
  IOStatus ReuseWritableFile(const std::string& name, const std::string& old_name,
                             const FileOptions& options, std::unique_ptr<FSWritableFile>* result,
                             IODebugContext* dbg) override {
    journal_->Record({"unsupported", "ReuseWritableFile", Absolute(name)});
    return target()->ReuseWritableFile(name, old_name, options, result, dbg);
  }
  IOStatus NewRandomRWFile(const std::string& name, const FileOptions& options,
                           std::unique_ptr<FSRandomRWFile>* result, IODebugContext* dbg) override {
    journal_->Record({"unsupported", "NewRandomRWFile", Absolute(name)});
    return target()->NewRandomRWFile(name, options, result, dbg);
  }

  IOStatus NewDirectory(const std::string& name, const IOOptions& options,
                        std::unique_ptr<FSDirectory>* result, IODebugContext* dbg) override {
    IOStatus status = target()->NewDirectory(name, options, result, dbg);
    if (status.ok()) {
      *result = std::make_unique<TrackedDirectory>(std::move(*result), journal_, Absolute(name));
    }
    return status;
  }

  IOStatus DeleteFile(const std::string& name, const IOOptions& options,
                      IODebugContext* dbg) override {
    IOStatus status = target()->DeleteFile(name, options, dbg);
    if (status.ok()) journal_->Record({"delete", Absolute(name)});
    return status;
  }

  // A rename is only certain on disk once its directory is fsynced; until
  // then a power cut may leave the old target. The replay can only restore
  // it if it still exists, so the file a rename replaces is copied first.
  IOStatus RenameFile(const std::string& from, const std::string& to, const IOOptions& options,
                      IODebugContext* dbg) override {
    std::string backup;
    if (target()->FileExists(to, IOOptions(), nullptr).ok()) {
      backup = journal_->NewBackupPath();
      std::error_code error;
      std::filesystem::copy_file(to, backup, std::filesystem::copy_options::overwrite_existing,
                                 error);
      if (error) {
        return IOStatus::IOError("sync journal: cannot back up " + to + ": " + error.message());
      }
    }
    IOStatus status = target()->RenameFile(from, to, options, dbg);
    if (status.ok()) {
      journal_->Record({"rename", Absolute(from), Absolute(to), backup.empty() ? "-" : backup});
    } else if (!backup.empty()) {
      std::error_code ignored;
      std::filesystem::remove(backup, ignored);
    }
    return status;
  }

  IOStatus LinkFile(const std::string& from, const std::string& to, const IOOptions& options,
                    IODebugContext* dbg) override {
    IOStatus status = target()->LinkFile(from, to, options, dbg);
    if (status.ok()) journal_->Record({"link", Absolute(from), Absolute(to)});
    return status;
  }

  IOStatus Truncate(const std::string& name, size_t size, const IOOptions& options,
                    IODebugContext* dbg) override {
    IOStatus status = target()->Truncate(name, size, options, dbg);
    if (status.ok()) journal_->Record({"truncate", Absolute(name), std::to_string(size)});
    return status;
  }

 private:
  std::chrono::milliseconds SyncDelay(std::string_view path) const {
    return path.ends_with(".log") ? wal_sync_delay_ : std::chrono::milliseconds(0);
  }

  const std::shared_ptr<Journal> journal_;
  const std::chrono::milliseconds wal_sync_delay_;
};

// The fault switch (NewFaultSwitchFileSystem). It sits below the journaling
// layer, so a refused operation is never journaled as done.
class FaultSwitch {
 public:
  explicit FaultSwitch(std::string control_path) : control_path_(std::move(control_path)) {}
  // NoSpace while the control file exists, else Ok.
  IOStatus Check(std::string_view operation) const {
    if (::access(control_path_.c_str(), F_OK) != 0) return IOStatus::OK();
    return IOStatus::NoSpace("injected fault (" + std::string(operation) + ")",
                             "test control file " + control_path_ + " exists");
  }

 private:
  const std::string control_path_;
};

class FaultWritableFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultWritableFile(std::unique_ptr<FSWritableFile> target, std::shared_ptr<FaultSwitch> faults)
      : FSWritableFileOwnerWrapper(std::move(target)), faults_(std::move(faults)) {}

  IOStatus Append(const Slice& data, const IOOptions& options, IODebugContext* dbg) override {
    IOStatus status = faults_->Check("append");
    return status.ok() ? target()->Append(data, options, dbg) : status;
  }
  IOStatus Append(const Slice& data, const IOOptions& options,
                  const rocksdb::DataVerificationInfo& info, IODebugContext* dbg) override {
    IOStatus status = faults_->Check("append");
    return status.ok() ? target()->Append(data, options, info, dbg) : status;
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& options,
                            IODebugContext* dbg) override {
    IOStatus status = faults_->Check("append");
    return status.ok() ? target()->PositionedAppend(data, offset, options, dbg) : status;
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& options,
                            const rocksdb::DataVerificationInfo& info,
                            IODebugContext* dbg) override {
    IOStatus status = faults_->Check("append");
    return status.ok() ? target()->PositionedAppend(data, offset, options, info, dbg) : status;
  }
  IOStatus Truncate(uint64_t size, const IOOptions& options, IODebugContext* dbg) override {
    IOStatus status = faults_->Check("truncate");
    return status.ok() ? target()->Truncate(size, options, dbg) : status;
  }
  IOStatus Sync(const IOOptions& options, IODebugContext* dbg) override {
    IOStatus status = faults_->Check("sync");
    return status.ok() ? target()->Sync(options, dbg) : status;
  }
  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    IOStatus status = faults_->Check("sync");
    return status.ok() ? target()->Fsync(options, dbg) : status;
  }
  IOStatus RangeSync(uint64_t offset, uint64_t nbytes, const IOOptions& options,
                     IODebugContext* dbg) override {
    IOStatus status = faults_->Check("sync");
    return status.ok() ? target()->RangeSync(offset, nbytes, options, dbg) : status;
  }

 private:
  const std::shared_ptr<FaultSwitch> faults_;
};

class FaultSwitchFileSystem : public rocksdb::FileSystemWrapper {
 public:
  FaultSwitchFileSystem(const std::shared_ptr<rocksdb::FileSystem>& base,
                        std::shared_ptr<FaultSwitch> faults)
      : FileSystemWrapper(base), faults_(std::move(faults)) {}

  const char* Name() const override { return "FaultSwitchFileSystem"; }

  IOStatus NewWritableFile(const std::string& name, const FileOptions& options,
                           std::unique_ptr<FSWritableFile>* result, IODebugContext* dbg) override {
    return Wrap(name, target()->NewWritableFile(name, options, result, dbg), result);
  }
  IOStatus ReopenWritableFile(const std::string& name, const FileOptions& options,
                              std::unique_ptr<FSWritableFile>* result,
                              IODebugContext* dbg) override {
    return Wrap(name, target()->ReopenWritableFile(name, options, result, dbg), result);
  }
  IOStatus ReuseWritableFile(const std::string& name, const std::string& old_name,
                             const FileOptions& options, std::unique_ptr<FSWritableFile>* result,
                             IODebugContext* dbg) override {
    return Wrap(name, target()->ReuseWritableFile(name, old_name, options, result, dbg), result);
  }
  IOStatus RenameFile(const std::string& from, const std::string& to, const IOOptions& options,
                      IODebugContext* dbg) override {
    IOStatus status = faults_->Check("rename");
    return status.ok() ? target()->RenameFile(from, to, options, dbg) : status;
  }
  IOStatus LinkFile(const std::string& from, const std::string& to, const IOOptions& options,
                    IODebugContext* dbg) override {
    IOStatus status = faults_->Check("link");
    return status.ok() ? target()->LinkFile(from, to, options, dbg) : status;
  }
  IOStatus Truncate(const std::string& name, size_t size, const IOOptions& options,
                    IODebugContext* dbg) override {
    IOStatus status = faults_->Check("truncate");
    return status.ok() ? target()->Truncate(name, size, options, dbg) : status;
  }
  IOStatus CreateDir(const std::string& name, const IOOptions& options,
                     IODebugContext* dbg) override {
    IOStatus status = faults_->Check("mkdir");
    return status.ok() ? target()->CreateDir(name, options, dbg) : status;
  }

 private:
  // Opening (creating) a file works, as on a full disk; its writes fail.
  // RocksDB's info log is spared, to keep the diagnosis.
  static bool IsInfoLog(const std::string& name) {
    return std::filesystem::path(name).filename() == "LOG";
  }
  IOStatus Wrap(const std::string& name, IOStatus opened, std::unique_ptr<FSWritableFile>* result) {
    if (opened.ok() && !IsInfoLog(name)) {
      *result = std::make_unique<FaultWritableFile>(std::move(*result), faults_);
    }
    return opened;
  }

  const std::shared_ptr<FaultSwitch> faults_;
};

}  // namespace

std::shared_ptr<rocksdb::FileSystem> NewFaultSwitchFileSystem(
    std::shared_ptr<rocksdb::FileSystem> base, std::string control_path) {
  return std::make_shared<FaultSwitchFileSystem>(
      base, std::make_shared<FaultSwitch>(std::move(control_path)));
}

std::shared_ptr<rocksdb::FileSystem> NewSyncTrackingFileSystem(
    std::shared_ptr<rocksdb::FileSystem> base, const std::string& journal_path, std::string* error,
    std::chrono::milliseconds wal_sync_delay) {
  std::shared_ptr<Journal> journal = Journal::Open(journal_path, error);
  if (!journal) return nullptr;
  return std::make_shared<SyncTrackingFileSystem>(base, std::move(journal), wal_sync_delay);
}

rocksdb::Env* TestEnvFromEnvironment() {
  const char* journal_path = std::getenv("TALLY_SYNC_JOURNAL");
  const char* fault_path = std::getenv("TALLY_FAULT_FILE");
  const bool journal = journal_path != nullptr && *journal_path != '\0';
  const bool faults = fault_path != nullptr && *fault_path != '\0';
  if (!journal && !faults) return nullptr;
  // Lives until exit: RocksDB uses the Env until the keyspace is closed.
  static const std::unique_ptr<rocksdb::Env> env = [journal, journal_path, faults, fault_path] {
    std::shared_ptr<rocksdb::FileSystem> fs = rocksdb::FileSystem::Default();
    if (faults) fs = NewFaultSwitchFileSystem(fs, fault_path);
    if (!journal) return rocksdb::NewCompositeEnv(fs);
    std::chrono::milliseconds delay(0);
    if (const char* text = std::getenv("TALLY_WAL_SYNC_DELAY_MS"); text != nullptr && *text) {
      char* end = nullptr;
      const long value = std::strtol(text, &end, 10);
      if (*end != '\0' || value < 0) {
        std::fprintf(stderr, "tally-server: TALLY_WAL_SYNC_DELAY_MS=%s is not a number\n", text);
        std::exit(1);
      }
      delay = std::chrono::milliseconds(value);
    }
    std::string error;
    fs = NewSyncTrackingFileSystem(fs, journal_path, &error, delay);
    if (!fs) {
      std::fprintf(stderr, "tally-server: %s\n", error.c_str());
      std::exit(1);
    }
    return rocksdb::NewCompositeEnv(fs);
  }();
  return env.get();
}

}  // namespace tally::testing
