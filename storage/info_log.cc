#include "storage/info_log.h"

#include <pthread.h>
#include <rocksdb/file_system.h>
#include <sys/time.h>

#include <algorithm>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace tally::storage {
namespace {

class InfoLog : public rocksdb::Logger {
 public:
  explicit InfoLog(std::unique_ptr<rocksdb::FSWritableFile> file) : file_(std::move(file)) {}
  ~InfoLog() override { CloseFile(); }

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    // RocksDB's line format: local time with microseconds, thread, message.
    char line[4096];
    timeval now{};
    gettimeofday(&now, nullptr);
    tm local{};
    localtime_r(&now.tv_sec, &local);
    int length = std::snprintf(line, sizeof line, "%04d/%02d/%02d-%02d:%02d:%02d.%06ld %lx ",
                               local.tm_year + 1900, local.tm_mon + 1, local.tm_mday, local.tm_hour,
                               local.tm_min, local.tm_sec, static_cast<long>(now.tv_usec),
                               static_cast<unsigned long>(pthread_self()));
    if (length < 0) return;
    va_list copy;
    va_copy(copy, ap);
    const int body = std::vsnprintf(line + length, sizeof line - length, format, copy);
    va_end(copy);
    if (body < 0) return;
    length = std::min<int>(length + body, sizeof line - 2);  // a long line is cut
    line[length++] = '\n';
    // Straight to the file, without RocksDB's WritableFileWriter (which
    // asserts after a failure): a failure (the disk is full) loses this
    // line only.
    std::lock_guard lock(mu_);
    if (file_ == nullptr) return;
    file_->Append(rocksdb::Slice(line, static_cast<size_t>(length)), rocksdb::IOOptions(), nullptr)
        .PermitUncheckedError();
    file_->Flush(rocksdb::IOOptions(), nullptr).PermitUncheckedError();
  }

 protected:
  rocksdb::Status CloseImpl() override {
    CloseFile();
    return rocksdb::Status::OK();
  }

 private:
  void CloseFile() {
    std::lock_guard lock(mu_);
    if (file_ != nullptr) file_->Close(rocksdb::IOOptions(), nullptr).PermitUncheckedError();
    file_.reset();
  }

  std::mutex mu_;
  std::unique_ptr<rocksdb::FSWritableFile> file_;  // guarded by mu_
};

}  // namespace

std::shared_ptr<rocksdb::Logger> OpenInfoLog(rocksdb::Env* env, const std::string& dir) {
  const std::shared_ptr<rocksdb::FileSystem>& fs = env->GetFileSystem();
  const std::string path = dir + "/LOG";
  // Only at open: renaming under a running server would merely send its
  // lines to LOG.old (it keeps its file open).
  constexpr uint64_t kRotateBytes = 16u << 20;
  uint64_t size = 0;
  if (fs->GetFileSize(path, rocksdb::IOOptions(), &size, nullptr).ok() && size > kRotateBytes) {
    fs->RenameFile(path, dir + "/LOG.old", rocksdb::IOOptions(), nullptr).PermitUncheckedError();
  }
  std::unique_ptr<rocksdb::FSWritableFile> file;
  // Appends to the LOG of earlier runs; a file system that cannot reopen
  // starts it afresh.
  if (!fs->ReopenWritableFile(path, rocksdb::FileOptions(), &file, nullptr).ok() &&
      !fs->NewWritableFile(path, rocksdb::FileOptions(), &file, nullptr).ok()) {
    return nullptr;
  }
  return std::make_shared<InfoLog>(std::move(file));
}

}  // namespace tally::storage
