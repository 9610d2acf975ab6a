#include "server/logging.h"

#include <spdlog/details/file_helper.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>

namespace tally::server {
namespace {

// spdlog's basic_file_sink, plus Reopen(): its file_helper can reopen the
// same path, but the basic sink does not expose it.
class ReopenableFileSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit ReopenableFileSink(const std::string& path) { file_.open(path, /*truncate=*/false); }

  // Returns false, and keeps writing to the open file, if the path cannot
  // be opened for appending.
  bool Reopen() {
    std::lock_guard lock(mutex_);
    // file_helper closes the old file before it opens the new one; check
    // first that the open will succeed rather than be left with neither.
    std::FILE* probe = std::fopen(file_.filename().c_str(), "ab");
    if (probe == nullptr) return false;
    std::fclose(probe);
    file_.flush();
    file_.reopen(/*truncate=*/false);
    return true;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    file_.write(formatted);
  }
  void flush_() override { file_.flush(); }

 private:
  spdlog::details::file_helper file_;
};

// The file sink in use, if logging to a file.
std::shared_ptr<ReopenableFileSink> file_sink;

}  // namespace

std::optional<std::string> SetupLogging(const std::string& logfile, const std::string& level) {
  try {
    std::shared_ptr<spdlog::logger> logger;
    if (logfile.empty()) {
      logger = spdlog::stdout_logger_mt("tally");
    } else {
      file_sink = std::make_shared<ReopenableFileSink>(logfile);
      logger = std::make_shared<spdlog::logger>("tally", file_sink);
    }
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %P %^%l%$ %v");
    // Log lines are rare below debug level (start-up, shutdown, problems), and
    // operators and scripts tail the file: write each one out at once. Debug
    // lines (per connection) are flushed once a second.
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(logger);
  } catch (const spdlog::spdlog_ex& e) {
    return std::string("cannot open log file '") + logfile + "': " + e.what();
  }
  spdlog::flush_every(std::chrono::seconds(1));
  ApplyLogLevel(level);
  return std::nullopt;
}

void ApplyLogLevel(const std::string& level) {
  spdlog::level::level_enum spd = spdlog::level::info;
  if (level == "debug")
    spd = spdlog::level::trace;
  else if (level == "verbose")
    spd = spdlog::level::debug;
  else if (level == "notice")
    spd = spdlog::level::info;
  else if (level == "warning")
    spd = spdlog::level::warn;
  else if (level == "nothing")
    spd = spdlog::level::off;
  spdlog::set_level(spd);
}

std::optional<std::string> ReopenLogFile() {
  if (!file_sink) return std::nullopt;
  try {
    if (!file_sink->Reopen()) {
      return std::string("cannot reopen the log file: ") + std::strerror(errno);
    }
  } catch (const spdlog::spdlog_ex& e) {
    return std::string("cannot reopen the log file: ") + e.what();
  }
  return std::nullopt;
}

}  // namespace tally::server
