// What `tally-server import` and `tally-server export` share: the options
// that say where and what to read, Ctrl-C handling, and the progress line.
#pragma once

#include <boost/program_options.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "server/tools/redis_url.h"
#include "server/tools/resp_connection.h"

namespace tally::server::tools {

struct SourceOptions {
  std::string from;   // URL of the server to read
  std::string match;  // SCAN MATCH pattern; empty: every key
  int64_t count = 1000;
  std::string ca_file;
  bool insecure = false;
  int64_t timeout_seconds = 30;
};

// Adds --from (with `default_from` unless empty, else required), --match,
// --count, --cacert, --insecure and --timeout to `desc`, storing into *out.
void AddSourceOptions(boost::program_options::options_description* desc, SourceOptions* out,
                      const std::string& default_from);

// ConnectOptions from the parsed options, for the given role.
ConnectOptions MakeConnectOptions(const SourceOptions& options, std::string role);

// Parses argv (argv[0] is the subcommand's name) against `desc`. Returns
// false after printing the problem (or, for --help, `usage` and the
// options) to the right stream; *exit_code says what main should return.
bool ParseToolArguments(int argc, char** argv,
                        const boost::program_options::options_description& desc,
                        std::string_view usage, int* exit_code);

// SIGINT and SIGTERM: the first sets a flag the tools check between
// batches (they stop cleanly after the batch in flight), the second ends the
// process at once.
void InstallInterruptHandlers();
bool Interrupted();

// "1 key", "2 keys".
std::string Keys(uint64_t n);

// "hash 1, list 2" (sorted by type name).
std::string FormatByType(const std::map<std::string, uint64_t>& counts);

// Keys per second, guarding against a zero duration.
double Rate(uint64_t keys, std::chrono::steady_clock::duration elapsed);

// One line on standard error, redrawn in place (at most ten times a second)
// when standard error is a terminal; does nothing otherwise, so logs and
// pipes get only the summary.
class ProgressLine {
 public:
  ProgressLine();
  bool enabled() const { return enabled_; }
  // Redraws the line with `text` unless it was redrawn less than 100 ms ago.
  void Update(const std::string& text);
  // Erases the line, so the summary starts on a clean one.
  void Clear();

 private:
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace tally::server::tools
