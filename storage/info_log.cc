#include "storage/info_log.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <filesystem>

namespace tally::storage {
namespace {

class InfoLog : public rocksdb::Logger {
 public:
  explicit InfoLog(int fd) : fd_(fd) {}
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
    // One write(2) per line keeps lines whole under O_APPEND. A failure (the
    // disk is full) loses this line only.
    ssize_t written;
    do {
      written = ::write(fd_, line, static_cast<size_t>(length));
    } while (written < 0 && errno == EINTR);
  }

 protected:
  rocksdb::Status CloseImpl() override {
    CloseFile();
    return rocksdb::Status::OK();
  }

 private:
  void CloseFile() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  int fd_;
};

}  // namespace

std::shared_ptr<rocksdb::Logger> OpenInfoLog(const std::string& dir) {
  const std::filesystem::path path = std::filesystem::path(dir) / "LOG";
  std::error_code ignored;
  // Only at open: renaming under a running server would merely send its
  // lines to LOG.old (it keeps its descriptor).
  constexpr uintmax_t kRotateBytes = 16u << 20;
  const uintmax_t size = std::filesystem::file_size(path, ignored);
  if (size != static_cast<uintmax_t>(-1) && size > kRotateBytes) {
    std::filesystem::rename(path, std::filesystem::path(dir) / "LOG.old", ignored);
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return nullptr;
  return std::make_shared<InfoLog>(fd);
}

}  // namespace tally::storage
