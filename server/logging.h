// spdlog set-up: Redis's log level names mapped onto spdlog's, and a log
// file that can be reopened at its path, so logrotate can move it away.
#pragma once

#include <optional>
#include <string>

namespace tally::server {

// Installs the default logger, writing to `logfile` or, when it is empty,
// standard output (as Redis does). Returns an error message if the file
// cannot be opened.
std::optional<std::string> SetupLogging(const std::string& logfile, const std::string& level);

// Applies a Redis log level name: debug, verbose, notice, warning (spdlog's
// trace, debug, info, warn) or nothing.
void ApplyLogLevel(const std::string& level);

// Closes the log file and opens it again at its configured path, creating
// it if it was moved away (what a SIGHUP does after log rotation). Lines
// logged meanwhile go to one file or the other, none is lost. Returns an
// error message if the file cannot be opened (logging then continues into
// the old file); does nothing when logging to standard output.
std::optional<std::string> ReopenLogFile();

}  // namespace tally::server
