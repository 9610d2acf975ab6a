#include "server/logging.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace tally::server {

std::optional<std::string> SetupLogging(const std::string& logfile, const std::string& level) {
  try {
    std::shared_ptr<spdlog::logger> logger =
        logfile.empty() ? spdlog::stderr_logger_mt("tally")
                        : spdlog::basic_logger_mt("tally", logfile, /*truncate=*/false);
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
    spd = spdlog::level::debug;
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

}  // namespace tally::server
