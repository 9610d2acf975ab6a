// Server settings: one table of named settings drives the command line
// (--port 6380), the config file (`port 6380`), CONFIG GET/SET and --help, so
// every setting is spelled and validated the same way everywhere.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tally::server {

// Redis's client-output-buffer-limit for normal clients (see
// docs/security.md): a client whose unsent replies reach `hard` bytes is
// closed at once; one whose replies stay at `soft` bytes or more for
// `soft_seconds` is closed then. 0 turns a limit off.
struct OutputBufferLimit {
  int64_t hard = 256LL * 1024 * 1024;
  int64_t soft = 4LL * 1024 * 1024;
  int64_t soft_seconds = 60;
};

struct Config {
  std::string bind = "127.0.0.1";
  int port = 6379;
  std::string dir = "./data";
  int threads = 0;  // 0: one I/O thread per core.
  std::string loglevel = "notice";
  std::string logfile;  // empty: standard output.
  std::string requirepass;
  // Named users (server/acl.h): each "NAME:PASSWORD[:readonly]" or a
  // redis.conf `user` line's words; or an ACL file. Not both.
  std::vector<std::string> users;
  std::string aclfile;
  // Redis's protected mode: without a password for the default user, only
  // clients on 127.0.0.1 / ::1 are served.
  bool protected_mode = true;
  int64_t proto_max_bulk_len = 512LL * 1024 * 1024;
  // always: reply only after the write is fsynced (group commit);
  // everysec: fsync about once a second; none: the OS decides.
  std::string durability = "always";
  // Bytes of recently used keys' values kept in memory in front of RocksDB
  // (storage/counter_cache.h); 0 turns the cache off.
  int64_t counter_cache_size = 64LL * 1024 * 1024;
  // The Upstash-compatible REST front end (server/http/), off while
  // http_port is 0. An empty http_bind means the RESP bind addresses.
  int http_port = 0;
  std::string http_bind;
  std::string http_token;           // comma/space separated; empty: requirepass
  std::string http_readonly_token;  // tokens that may only read
  int64_t http_max_body_size = 10LL * 1024 * 1024;
  // The slow log: commands that run at least this many microseconds
  // (negative: none), keeping the newest slowlog_max_len.
  int64_t slowlog_log_slower_than = 10000;
  int64_t slowlog_max_len = 128;
  // Prometheus metrics on their own listener, off while metrics_port is 0
  // (GET /metrics on the REST port works regardless). An empty metrics_bind
  // means the RESP bind addresses.
  int metrics_port = 0;
  std::string metrics_bind;
  // TLS (server/tls_context.h): RESP over TLS on tls_port (0: off), and the
  // REST API over HTTPS with http_tls, both with this certificate and key.
  int tls_port = 0;
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_ca_cert_file;          // verifies client certificates
  std::string tls_auth_clients = "yes";  // yes, no or optional, as in Redis
  bool http_tls = false;
  // Limits on each client (docs/security.md).
  int64_t maxclients = 10000;  // lowered at start-up if the open-file limit is too low
  int64_t client_query_buffer_limit = 1LL * 1024 * 1024 * 1024;
  OutputBufferLimit client_output_buffer_limit;
  int64_t timeout = 0;          // close clients idle this many seconds; 0: never
  int64_t tcp_keepalive = 300;  // seconds; 0: no keepalive probes

  std::string config_file;  // where the settings were loaded from, if anywhere.
};

struct Setting {
  std::string_view name;
  std::string_view help;
  bool mutable_at_runtime;  // CONFIG SET may change it.
  bool hidden_value;        // CONFIG GET shows it only when set (requirepass).
  std::string (*get)(const Config&);
  // Parses and stores `value`; returns an error description on bad input.
  std::optional<std::string> (*set)(Config&, std::string_view value);
  // May be given more than once (`user`); each value adds to the setting.
  bool repeatable = false;
};

// Every setting, in documentation order.
const std::vector<Setting>& AllSettings();
const Setting* FindSetting(std::string_view name);  // any case

// Result of reading the command line.
enum class CommandLineAction { kRun, kHelp, kVersion, kPrintConfig };

// Reads `tally-server [config-file | --config config-file] [--name value ...]`:
// the file first, then the flags on top. Returns an error message naming the
// offending setting.
std::optional<std::string> ParseCommandLine(int argc, const char* const* argv, Config* config,
                                            CommandLineAction* action);

// Applies a redis.conf-style file: one `name value...` per line, `#`
// comments, quoting as in redis-cli.
std::optional<std::string> LoadConfigFile(const std::string& path, Config* config);

// The --help text, a manual page (NAME, SYNOPSIS, DESCRIPTION, OPTIONS by
// group, FILES, EXAMPLES) generated from the settings table, so every setting
// is in it with its default.
std::string HelpText();

// The example config file (--print-config; installed as tally.conf): every
// setting of the table, with its help as a comment and its default value on a
// commented-out `name value` line. Uncommenting every line yields a file that
// LoadConfigFile accepts and that sets every setting to its default.
std::string ExampleConfigText();

// A Config shared by all threads: CONFIG SET changes it while the server runs.
class LiveConfig {
 public:
  explicit LiveConfig(Config config) : config_(std::move(config)) {}
  Config Snapshot() const {
    std::lock_guard lock(mu_);
    return config_;
  }
  // Applies CONFIG SET name value; returns Redis's error text on failure.
  std::optional<std::string> Set(std::string_view name, std::string_view value);

 private:
  mutable std::mutex mu_;
  Config config_;
};

}  // namespace tally::server
