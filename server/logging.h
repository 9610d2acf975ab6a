// spdlog set-up: Redis's log level names mapped onto spdlog's.
#pragma once

#include <optional>
#include <string>

namespace tally::server {

// Installs the default logger, writing to `logfile` or standard error.
// Returns an error message if the file cannot be opened.
std::optional<std::string> SetupLogging(const std::string& logfile, const std::string& level);

// Applies a Redis log level name (debug, verbose, notice, warning, nothing).
void ApplyLogLevel(const std::string& level);

}  // namespace tally::server
