#include "server/config.h"

#include <boost/program_options.hpp>
#include <cctype>
#include <fstream>
#include <sstream>
#include <thread>

#include "protocol/request_parser.h"
#include "server/acl.h"
#include "server/text.h"
#include "storage/numbers.h"
#include "storage/wal_syncer.h"

namespace tally::server {
namespace {

namespace po = boost::program_options;

// A number setting, with Redis's CONFIG SET errors for numbers.
std::optional<std::string> SetInt(std::string_view value, int64_t min, int64_t max, int64_t* out) {
  auto parsed = ParseInt64(value);
  if (!parsed) return "argument couldn't be parsed into an integer";
  if (*parsed < min || *parsed > max) {
    return "argument must be between " + std::to_string(min) + " and " + std::to_string(max) +
           " inclusive";
  }
  *out = *parsed;
  return std::nullopt;
}

// Redis's memtoull: a number with an optional k/kb/m/mb/g/gb unit (case
// insensitive; "k" is 1000, "kb" is 1024).
std::optional<int64_t> ParseMemory(std::string_view value) {
  size_t digits = 0;
  while (digits < value.size() && std::isdigit(static_cast<unsigned char>(value[digits]))) {
    ++digits;
  }
  auto number = ParseInt64(value.substr(0, digits));
  if (!number) return std::nullopt;
  std::string unit(value.substr(digits));
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  int64_t mul = 1;
  if (unit.empty() || unit == "b")
    mul = 1;
  else if (unit == "k")
    mul = 1000;
  else if (unit == "kb")
    mul = 1024;
  else if (unit == "m")
    mul = 1000 * 1000;
  else if (unit == "mb")
    mul = 1024 * 1024;
  else if (unit == "g")
    mul = 1000LL * 1000 * 1000;
  else if (unit == "gb")
    mul = 1024LL * 1024 * 1024;
  else
    return std::nullopt;
  if (*number > INT64_MAX / mul) return std::nullopt;
  return *number * mul;
}

// A size setting (512mb, 1gb...), with Redis's CONFIG SET errors for them.
std::optional<std::string> SetMemory(std::string_view value, int64_t min, int64_t* out) {
  auto bytes = ParseMemory(value);
  if (!bytes) return "argument must be a memory value";
  if (*bytes < min) {
    return "argument must be between " + std::to_string(min) + " and " + std::to_string(INT64_MAX) +
           " inclusive";
  }
  *out = *bytes;
  return std::nullopt;
}

std::optional<std::string> SetDurability(Config& c, std::string_view v) {
  storage::Durability mode;
  if (!storage::ParseDurability(v, &mode)) return "argument must be always, everysec or none";
  c.durability = storage::DurabilityName(mode);
  return std::nullopt;
}

// Redis's "<class> <hard> <soft> <soft-seconds>" groups, any number of them.
// Tally has only normal clients, so the replica and pubsub classes (which
// configs copied from redis.conf set) are accepted and have nothing to limit.
std::optional<std::string> SetOutputBufferLimit(Config& c, std::string_view v) {
  std::vector<std::string> words;
  std::istringstream in{std::string(v)};
  for (std::string word; in >> word;) words.push_back(word);
  if (words.empty() || words.size() % 4 != 0) {
    return "Wrong number of arguments in buffer limit configuration.";
  }
  OutputBufferLimit normal = c.client_output_buffer_limit;
  for (size_t i = 0; i < words.size(); i += 4) {
    const std::string& name = words[i];
    const bool is_normal = EqualsNoCase(name, "normal");
    if (!is_normal && !EqualsNoCase(name, "replica") && !EqualsNoCase(name, "slave") &&
        !EqualsNoCase(name, "pubsub")) {
      return "Invalid client class specified in buffer limit configuration.";
    }
    auto hard = ParseMemory(words[i + 1]);
    auto soft = ParseMemory(words[i + 2]);
    auto seconds = ParseInt64(words[i + 3]);
    if (!hard || !soft || !seconds || *seconds < 0) {
      return "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
    }
    if (is_normal) normal = {*hard, *soft, *seconds};
  }
  c.client_output_buffer_limit = normal;
  return std::nullopt;
}

const std::vector<Setting> kSettings = {
    {"bind", "Addresses to listen on (space separated).", false, false,
     [](const Config& c) { return c.bind; },
     [](Config& c, std::string_view v) -> std::optional<std::string> {
       if (v.empty()) return "argument must not be empty";
       c.bind = std::string(v);
       return std::nullopt;
     }},
    {"port", "TCP port for RESP clients; 0 turns it off (for a TLS-only server).", false, false,
     [](const Config& c) { return std::to_string(c.port); },
     [](Config& c, std::string_view v) -> std::optional<std::string> {
       int64_t port;
       if (auto err = SetInt(v, 0, 65535, &port)) return err;
       c.port = static_cast<int>(port);
       return std::nullopt;
     }},
    {"dir", "Data directory (created if missing).", false, false,
     [](const Config& c) { return c.dir; },
     [](Config& c, std::string_view v) -> std::optional<std::string> {
       if (v.empty()) return "argument must not be empty";
       c.dir = std::string(v);
       return std::nullopt;
     }},
    {"threads", "I/O threads; 0 means one per core.", false, false,
     [](const Config& c) { return std::to_string(c.threads); },
     [](Config& c, std::string_view v) -> std::optional<std::string> {
       int64_t n;
       if (auto err = SetInt(v, 0, 256, &n)) return err;
       c.threads = static_cast<int>(n);
       return std::nullopt;
     }},
    {"loglevel", "debug, verbose, notice or warning.", true, false,
     [](const Config& c) { return c.loglevel; },
     [](Config& c, std::string_view v) -> std::optional<std::string> {
       for (std::string_view level : {"debug", "verbose", "notice", "warning", "nothing"}) {
         if (EqualsNoCase(v, level)) {
           c.loglevel = std::string(level);
           return std::nullopt;
         }
       }
       return "argument must be one of debug, verbose, notice, warning, nothing";
     }},
    {"logfile", "Log file; empty logs to standard output. SIGHUP reopens it (log rotation).", false,
     false, [](const Config& c) { return c.logfile; },
     [](Config& c, std::string_view v) -> std::optional<std::string> {
       c.logfile = std::string(v);
       return std::nullopt;
     }},
    {"requirepass", "Password clients must AUTH with; empty disables.", true, true,
     [](const Config& c) { return c.requirepass; },
     [](Config& c, std::string_view v) -> std::optional<std::string> {
       c.requirepass = std::string(v);
       return std::nullopt;
     }},
    {"user",
     "A user: NAME:PASSWORD, NAME:PASSWORD:readonly, or NAME followed by ACL rules as in "
     "redis.conf (\"alice on >secret ~* +@all\"). Repeatable.",
     false, true,
     [](const Config& c) {
       // Names only: CONFIG GET must not print passwords the way they were given.
       std::string names;
       for (const auto& spec : c.users) {
         if (!names.empty()) names += ' ';
         names += spec.substr(0, spec.find_first_of(": "));
       }
       return names;
     },
     [](Config& c, std::string_view v) -> std::optional<std::string> {
       if (v.empty()) return std::nullopt;  // `user ""`: no user (the example config's line)
       std::shared_ptr<acl::User> user;
       if (auto err = acl::ParseUserSetting(v, &user)) return err;
       c.users.emplace_back(v);
       return std::nullopt;
     },
     true},
    {"aclfile", "ACL file of users, in Redis's format (a subset of its rules).", false, false,
     [](const Config& c) { return c.aclfile; },
     [](Config& c, std::string_view v) -> std::optional<std::string> {
       c.aclfile = std::string(v);
       return std::nullopt;
     }},
    {"protected-mode",
     "yes (default): without a password for the default user, serve only loopback clients.", true,
     false, [](const Config& c) { return std::string(c.protected_mode ? "yes" : "no"); },
     [](Config& c, std::string_view v) -> std::optional<std::string> {
       if (EqualsNoCase(v, "yes")) {
         c.protected_mode = true;
       } else if (EqualsNoCase(v, "no")) {
         c.protected_mode = false;
       } else {
         return "argument must be 'yes' or 'no'";
       }
       return std::nullopt;
     }},
    {"proto-max-bulk-len", "Largest accepted argument, e.g. 512mb.", true, false,
     [](const Config& c) { return std::to_string(c.proto_max_bulk_len); },
     [](Config& c, std::string_view v) -> std::optional<std::string> {
       return SetMemory(v, 1024 * 1024, &c.proto_max_bulk_len);
     }},
    {"durability", "always, everysec or none: when a write is fsynced before its reply.", false,
     false, [](const Config& c) { return c.durability; }, SetDurability},
    {"appendfsync", "Alias of durability, with Redis's spelling (no = none).", false, false,
     [](const Config& c) { return c.durability == "none" ? std::string("no") : c.durability; },
     SetDurability},
    {"counter-cache-size",
     "Memory for recently used keys' values kept in front of RocksDB, e.g. 64mb; 0 turns it off.",
     false, false, [](const Config& c) { return std::to_string(c.counter_cache_size); },
     [](Config& c, std::string_view v) -> std::optional<std::string> {
       return SetMemory(v, 0, &c.counter_cache_size);
     }},
    {"http-port", "TCP port for the Upstash-compatible REST API; 0 (default) turns it off.", false,
     false, [](const Config& c) { return std::to_string(c.http_port); },
     [](Config& c, std::string_view v) -> std::optional<std::string> {
       int64_t port;
       if (auto err = SetInt(v, 0, 65535, &port)) return err;
       c.http_port = static_cast<int>(port);
       return std::nullopt;
     }},
    {"http-bind", "Addresses for the REST API (space separated); default: those of bind.", false,
     false, [](const Config& c) { return c.http_bind.empty() ? c.bind : c.http_bind; },
     [](Config& c, std::string_view v) -> std::optional<std::string> {
       c.http_bind = std::string(v);
       return std::nullopt;
     }},
    {"http-token",
     "Bearer tokens for the REST API (comma or space separated); empty: requirepass. Without "
     "either, the REST API listens on loopback addresses only.",
     true, true, [](const Config& c) { return c.http_token; },
     [](Config& c, std::string_view v) -> std::optional<std::string> {
       c.http_token = std::string(v);
       return std::nullopt;
     }},
    {"http-readonly-token", "REST API tokens that may run read-only commands only.", true, true,
     [](const Config& c) { return c.http_readonly_token; },
     [](Config& c, std::string_view v) -> std::optional<std::string> {
       c.http_readonly_token = std::string(v);
       return std::nullopt;
     }},
    {"http-max-body-size", "Largest REST request body, e.g. 10mb (default).", true, false,
     [](const Config& c) { return std::to_string(c.http_max_body_size); },
     [](Config& c, std::string_view v) -> std::optional<std::string> {
       return SetMemory(v, 1024, &c.http_max_body_size);
     }},
    {"slowlog-log-slower-than",
     "Log commands that run at least this many microseconds in the slow log; -1 logs none, 0 "
     "logs every command.",
     true, false, [](const Config& c) { return std::to_string(c.slowlog_log_slower_than); },
     [](Config& c, std::string_view v) { return SetInt(v, -1, INT64_MAX, &c.slowlog_log_slower_than); }},
    {"slowlog-max-len", "How many entries the slow log keeps (the newest).", true, false,
     [](const Config& c) { return std::to_string(c.slowlog_max_len); },
     [](Config& c, std::string_view v) { return SetInt(v, 0, INT64_MAX, &c.slowlog_max_len); }},
    {"metrics-port",
     "TCP port serving only Prometheus metrics (GET /metrics), without a token; 0 (default) "
     "turns it off. /metrics is also served on http-port.",
     false, false, [](const Config& c) { return std::to_string(c.metrics_port); },
     [](Config& c, std::string_view v) -> std::optional<std::string> {
       int64_t port;
       if (auto err = SetInt(v, 0, 65535, &port)) return err;
       c.metrics_port = static_cast<int>(port);
       return std::nullopt;
     }},
    {"metrics-bind", "Addresses for metrics-port (space separated); default: those of bind.", false,
     false, [](const Config& c) { return c.metrics_bind.empty() ? c.bind : c.metrics_bind; },
     [](Config& c, std::string_view v) -> std::optional<std::string> {
       c.metrics_bind = std::string(v);
       return std::nullopt;
     }},
    {"tls-port", "TCP port for RESP clients over TLS; 0 (default) turns it off.", false, false,
     [](const Config& c) { return std::to_string(c.tls_port); },
     [](Config& c, std::string_view v) -> std::optional<std::string> {
       int64_t port;
       if (auto err = SetInt(v, 0, 65535, &port)) return err;
       c.tls_port = static_cast<int>(port);
       return std::nullopt;
     }},
    {"tls-cert-file", "Server certificate (PEM, may include the chain) for tls-port and http-tls.",
     false, false, [](const Config& c) { return c.tls_cert_file; },
     [](Config& c, std::string_view v) -> std::optional<std::string> {
       c.tls_cert_file = std::string(v);
       return std::nullopt;
     }},
    {"tls-key-file", "Private key (PEM) of tls-cert-file.", false, false,
     [](const Config& c) { return c.tls_key_file; },
     [](Config& c, std::string_view v) -> std::optional<std::string> {
       c.tls_key_file = std::string(v);
       return std::nullopt;
     }},
    {"tls-ca-cert-file", "CA certificates (PEM) that client certificates must be signed by.", false,
     false, [](const Config& c) { return c.tls_ca_cert_file; },
     [](Config& c, std::string_view v) -> std::optional<std::string> {
       c.tls_ca_cert_file = std::string(v);
       return std::nullopt;
     }},
    {"tls-auth-clients",
     "yes (default): TLS clients need a certificate signed by tls-ca-cert-file; optional: one "
     "is checked if sent; no: none is asked for.",
     false, false, [](const Config& c) { return c.tls_auth_clients; },
     [](Config& c, std::string_view v) -> std::optional<std::string> {
       for (std::string_view mode : {"yes", "no", "optional"}) {
         if (EqualsNoCase(v, mode)) {
           c.tls_auth_clients = std::string(mode);
           return std::nullopt;
         }
       }
       return "argument must be one of yes, no, optional";
     }},
    {"http-tls", "yes: the REST API speaks HTTPS on http-port, with tls-cert-file; default no.",
     false, false, [](const Config& c) { return std::string(c.http_tls ? "yes" : "no"); },
     [](Config& c, std::string_view v) -> std::optional<std::string> {
       if (EqualsNoCase(v, "yes")) {
         c.http_tls = true;
       } else if (EqualsNoCase(v, "no")) {
         c.http_tls = false;
       } else {
         return "argument must be 'yes' or 'no'";
       }
       return std::nullopt;
       }},
    {"maxclients",
     "Most RESP clients at once; more get an error. Lowered at start-up if the open-file limit "
     "cannot be raised enough.",
     true, false, [](const Config& c) { return std::to_string(c.maxclients); },
     [](Config& c, std::string_view v) -> std::optional<std::string> {
       return SetInt(v, 1, UINT32_MAX, &c.maxclients);
     }},
    {"client-query-buffer-limit", "Most bytes of unexecuted requests one client may send, e.g. 1gb.",
     true, false, [](const Config& c) { return std::to_string(c.client_query_buffer_limit); },
     [](Config& c, std::string_view v) -> std::optional<std::string> {
       return SetMemory(v, 1024 * 1024, &c.client_query_buffer_limit);
     }},
    {"client-output-buffer-limit",
     "\"normal <hard> <soft> <soft-seconds>\": close a client whose unsent replies reach <hard> "
     "bytes, or stay at <soft> bytes or more for <soft-seconds>; 0 turns a limit off.",
     true, false,
     [](const Config& c) {
       const OutputBufferLimit& l = c.client_output_buffer_limit;
       return "normal " + std::to_string(l.hard) + " " + std::to_string(l.soft) + " " +
              std::to_string(l.soft_seconds);
     },
     SetOutputBufferLimit},
    {"timeout", "Close a client idle for this many seconds; 0 never does.", true, false,
     [](const Config& c) { return std::to_string(c.timeout); },
     [](Config& c, std::string_view v) -> std::optional<std::string> {
       return SetInt(v, 0, INT32_MAX, &c.timeout);
     }},
    {"tcp-keepalive", "Seconds of silence before TCP keepalive probes a client; 0 turns them off.",
     true, false, [](const Config& c) { return std::to_string(c.tcp_keepalive); },
     [](Config& c, std::string_view v) -> std::optional<std::string> {
       return SetInt(v, 0, INT32_MAX, &c.tcp_keepalive);
     }},
};

std::optional<std::string> ApplySetting(Config* config, std::string_view name,
                                        std::string_view value) {
  const Setting* setting = FindSetting(name);
  if (!setting) return "unknown setting '" + std::string(name) + "'";
  if (auto err = setting->set(*config, value)) {
    return "invalid value '" + std::string(value) + "' for setting '" + std::string(name) +
           "': " + *err;
  }
  return std::nullopt;
}

// The command line's own options, besides the settings (--help lists them
// under "General").
struct GeneralOption {
  std::string_view flags;  // as --help shows them
  std::string_view help;
};
const GeneralOption kGeneralOptions[] = {
    {"-c, --config FILE",
     "Read settings from FILE (one `name value` per line) before applying the flags; the "
     "same as giving FILE as the first argument."},
    {"-h, --help", "Show this manual and exit."},
    {"-v, --version", "Show the version and the git commit it was built from, and exit."},
    {"--print-config",
     "Print a config file listing every setting with its default value (commented out) and "
     "exit. The installed tally.conf is this output."},
};

po::options_description CommandLineOptions() {
  po::options_description desc("Settings (each also valid in a config file as `name value`)");
  desc.add_options()("help,h", "")("version,v", "")("print-config", "")(
      "config,c", po::value<std::string>(), "");
  for (const auto& s : kSettings) {
    if (s.repeatable) {
      desc.add_options()(std::string(s.name).c_str(),
                         po::value<std::vector<std::string>>()->composing(),
                         std::string(s.help).c_str());
    } else {
      desc.add_options()(std::string(s.name).c_str(), po::value<std::string>(),
                         std::string(s.help).c_str());
    }
  }
  return desc;
}

}  // namespace

const std::vector<Setting>& AllSettings() { return kSettings; }

const Setting* FindSetting(std::string_view name) {
  for (const auto& s : kSettings) {
    if (EqualsNoCase(s.name, name)) return &s;
  }
  return nullptr;
}

std::optional<std::string> LoadConfigFile(const std::string& path, Config* config) {
  std::ifstream in(path);
  if (!in) return "cannot read config file '" + path + "'";
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    // Comments are skipped before the quotes are parsed, as redis-server does.
    size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    std::vector<std::string> words;
    if (!protocol::SplitInlineArgs(line, &words)) {
      return path + ":" + std::to_string(number) + ": unbalanced quotes";
    }
    if (words.empty() || words[0][0] == '#') continue;
    if (words.size() < 2) {
      return path + ":" + std::to_string(number) + ": setting '" + words[0] + "' needs a value";
    }
    // Only address and token lists, users and the output buffer limit
    // groups take several words; others exactly one.
    std::string value = words[1];
    if (words.size() > 2) {
      if (!EqualsNoCase(words[0], "bind") && !EqualsNoCase(words[0], "http-bind") &&
          !EqualsNoCase(words[0], "metrics-bind") && !EqualsNoCase(words[0], "http-token") &&
          !EqualsNoCase(words[0], "http-readonly-token") && !EqualsNoCase(words[0], "user") &&
          !EqualsNoCase(words[0], "client-output-buffer-limit")) {
        return path + ":" + std::to_string(number) + ": setting '" + words[0] + "' takes one value";
      }
      for (size_t i = 2; i < words.size(); ++i) value += " " + words[i];
    }
    if (auto err = ApplySetting(config, words[0], value)) {
      return path + ":" + std::to_string(number) + ": " + *err;
    }
  }
  config->config_file = path;
  return std::nullopt;
}

std::optional<std::string> ParseCommandLine(int argc, const char* const* argv, Config* config,
                                            CommandLineAction* action) {
  *action = CommandLineAction::kRun;
  po::options_description desc = CommandLineOptions();
  po::options_description hidden;
  hidden.add_options()("config-file", po::value<std::string>());
  po::options_description all;
  all.add(desc).add(hidden);
  po::positional_options_description positional;
  positional.add("config-file", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
  } catch (const po::error& e) {
    return std::string(e.what());
  }
  if (vm.count("help")) {
    *action = CommandLineAction::kHelp;
    return std::nullopt;
  }
  if (vm.count("version")) {
    *action = CommandLineAction::kVersion;
    return std::nullopt;
  }
  if (vm.count("print-config")) {
    *action = CommandLineAction::kPrintConfig;
    return std::nullopt;
  }
  if (vm.count("config") && vm.count("config-file")) {
    return std::string("give the config file once: as the first argument or with --config");
  }
  // The file first, then the flags on top of it, as redis-server does.
  for (const char* option : {"config", "config-file"}) {
    if (vm.count(option)) {
      if (auto err = LoadConfigFile(vm[option].as<std::string>(), config)) return err;
    }
  }
  for (const auto& s : kSettings) {
    std::string name(s.name);
    if (!vm.count(name)) continue;
    if (s.repeatable) {
      for (const auto& value : vm[name].as<std::vector<std::string>>()) {
        if (auto err = ApplySetting(config, name, value)) return err;
      }
    } else if (auto err = ApplySetting(config, name, vm[name].as<std::string>())) {
      return err;
    }
  }
  return std::nullopt;
}

namespace {

// --help and tally.conf list the settings by topic. A setting lands in the
// first group whose names or name prefixes match it, and in "Other" when none
// does, so a new setting is always listed.
struct SettingGroup {
  std::string_view title;
  std::vector<std::string_view> prefixes;  // a name matches "x-" by prefix, others exactly
};
const std::vector<SettingGroup>& SettingGroups() {
  static const std::vector<SettingGroup> groups = {
      {"Network", {"bind", "port", "threads", "maxclients", "timeout", "tcp-"}},
      {"Security", {"requirepass", "user", "aclfile", "protected-mode", "acl", "tls-"}},
      {"Storage and durability", {"dir", "durability", "appendfsync", "rocksdb-"}},
      {"Limits", {"proto-", "client-"}},
      {"Logging and monitoring", {"loglevel", "logfile", "slowlog-", "latency-", "metrics-"}},
      {"REST API (Upstash-compatible)", {"http-"}},
      {"Other", {}},
  };
  return groups;
}

bool InGroup(const SettingGroup& group, std::string_view name) {
  if (group.prefixes.empty()) return true;  // "Other"
  for (std::string_view p : group.prefixes) {
    if (p.ends_with('-') ? name.starts_with(p) : name == p) return true;
  }
  return false;
}

// The settings of the table in display order: by group, table order within.
std::vector<std::pair<std::string_view, std::vector<const Setting*>>> GroupedSettings() {
  std::vector<std::pair<std::string_view, std::vector<const Setting*>>> out;
  std::vector<bool> placed(kSettings.size(), false);
  for (const auto& group : SettingGroups()) {
    std::vector<const Setting*> members;
    for (size_t i = 0; i < kSettings.size(); ++i) {
      if (!placed[i] && InGroup(group, kSettings[i].name)) {
        placed[i] = true;
        members.push_back(&kSettings[i]);
      }
    }
    if (!members.empty()) out.emplace_back(group.title, std::move(members));
  }
  return out;
}

// Appends `text` word-wrapped to `width` columns, every line prefixed by `indent`.
void AppendWrapped(std::string* out, std::string_view text, std::string_view indent,
                   size_t width = 79) {
  std::string line(indent);
  bool line_empty = true;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view word = text.substr(pos, end - pos);
    pos = end + 1;
    if (word.empty()) continue;
    if (!line_empty && line.size() + 1 + word.size() > width) {
      *out += line + "\n";
      line = std::string(indent);
      line_empty = true;
    }
    if (!line_empty) line += ' ';
    line += word;
    line_empty = false;
  }
  *out += line + "\n";
}

// A value as a config file line must spell it to read back the same
// (protocol::SplitInlineArgs): bare when it is one plain word, else quoted.
std::string ConfigQuote(const std::string& value) {
  bool plain = !value.empty() && value[0] != '#';
  for (char c : value) {
    if (std::isspace(static_cast<unsigned char>(c)) || c == '"' || c == '\'' || c == '\\') {
      plain = false;
    }
  }
  if (plain) return value;
  std::string quoted = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "\"";
}

std::string DefaultShown(const Setting& s) {
  std::string value = s.get(Config{});
  return value.empty() ? "empty" : value;
}

}  // namespace

std::string HelpText() {
  std::string out =
      "NAME\n"
      "       tally-server - durable, Redis-compatible counter store on RocksDB\n"
      "\n"
      "SYNOPSIS\n"
      "       tally-server [--config FILE | FILE] [--SETTING VALUE ...]\n"
      "       tally-server --help | --version | --print-config\n"
      "       tally-server import --from URL [--to URL] [--match PATTERN] [...]\n"
      "       tally-server export --format resp|json [--from URL] [--match PATTERN]\n"
      "\n"
      "DESCRIPTION\n";
  AppendWrapped(&out,
                "Tally serves counters (INCR, GET, KEYS, SCAN and what Redis clients send "
                "around them) over Redis's protocol, RESP2 and RESP3, and optionally over the "
                "Upstash REST API that @vercel/kv and @upstash/redis use. Every write is in "
                "RocksDB's write-ahead log before its reply is sent (with durability always, "
                "fsynced too), so an acknowledged write survives a crash or a restart.",
                "       ");
  out += "\n";
  AppendWrapped(&out,
                "It runs in the foreground, logs to standard output unless logfile is set, and "
                "shuts down cleanly on SIGTERM, SIGINT or the SHUTDOWN command.",
                "       ");
  out += "\n";
  AppendWrapped(&out,
                "Every setting below is a flag (--port 6380) and a line of the config file "
                "(port 6380); flags override the file. Settings marked [CONFIG SET] can be "
                "changed while the server runs. An unknown setting or an invalid value stops "
                "start-up with a message naming it.",
                "       ");
  out += "\nOPTIONS\n   General\n";
  for (const auto& option : kGeneralOptions) {
    out += "       " + std::string(option.flags) + "\n";
    AppendWrapped(&out, option.help, "              ");
  }
  for (const auto& [title, settings] : GroupedSettings()) {
    out += "\n   " + std::string(title) + "\n";
    for (const Setting* s : settings) {
      out += "       --" + std::string(s->name) + " VALUE\n";
      std::string text(s->help);
      text += " Default: " + DefaultShown(*s) + ".";
      if (s->mutable_at_runtime) text += " [CONFIG SET]";
      AppendWrapped(&out, text, "              ");
    }
  }
  out +=
      "\nFILES\n"
      "       PREFIX/etc/tally/tally.conf\n"
      "              The config file cmake --install puts there unless one exists:\n"
      "              every setting with its default, commented out (--print-config).\n"
      "       PREFIX/lib/systemd/system/tally.service\n"
      "              The systemd unit: runs as user tally in /var/lib/tally, so the\n"
      "              data is in /var/lib/tally/data.\n"
      "       DIR (the dir setting, ./data by default)\n"
      "              The RocksDB data directory; one server per directory.\n"
      "       DIR/checkpoints/\n"
      "              Online checkpoints taken by SAVE and BGSAVE, for backups.\n"
      "\n"
      "EXAMPLES\n"
      "       tally-server\n"
      "              Serve on 127.0.0.1:6379 with data in ./data.\n"
      "       tally-server --port 6380 --dir /var/lib/tally --requirepass s3cret\n"
      "              Another port, data directory and a password for AUTH.\n"
      "       tally-server --config /etc/tally/tally.conf --loglevel verbose\n"
      "              Settings from a file, one of them overridden by a flag.\n"
      "       tally-server --http-port 8079 --http-token \"$(openssl rand -hex 32)\"\n"
      "              Also serve the REST API for @vercel/kv and @upstash/redis apps.\n"
      "       tally-server --print-config > tally.conf\n"
      "              Start a config file from the defaults.\n"
      "       tally-server import --from \"$KV_URL\" --match 'usage:*'\n"
      "              Copy counters and their TTLs from Vercel KV or any Redis into\n"
      "              the running Tally on 127.0.0.1:6379, resumably. import --help\n"
      "              and export --help list the options of both data tools.\n"
      "\n"
      "SEE ALSO\n"
      "       redis-cli(1), nutcracker(8); docs/configuration.md, docs/operations.md\n"
      "       and docs/scaling.md in Tally's sources.\n";
  return out;
}

std::string ExampleConfigText() {
  std::string out =
      "# Tally configuration file.\n"
      "#\n"
      "# Use it with `tally-server --config FILE` (or `tally-server FILE`). One\n"
      "# setting per line, `name value`; `#` starts a comment; quote a value with\n"
      "# spaces as redis-cli does: requirepass \"two words\". Flags on the command\n"
      "# line override the file.\n"
      "#\n"
      "# Every setting is listed below with its default value, commented out:\n"
      "# uncomment a line to change it. `tally-server --print-config` prints this\n"
      "# file; `tally-server --help` and docs/configuration.md describe each setting.\n";
  for (const auto& [title, settings] : GroupedSettings()) {
    out += "\n################################ " + std::string(title) + "\n";
    for (const Setting* s : settings) {
      out += "\n";
      std::string text(s->help);
      if (s->mutable_at_runtime) text += " Can be changed with CONFIG SET.";
      AppendWrapped(&out, text, "# ", 78);
      out += "# " + std::string(s->name) + " " + ConfigQuote(s->get(Config{})) + "\n";
    }
  }
  return out;
}

std::optional<std::string> LiveConfig::Set(std::string_view name, std::string_view value) {
  const Setting* setting = FindSetting(name);
  if (!setting) {
    return "ERR Unknown option or number of arguments for CONFIG SET - '" + std::string(name) + "'";
  }
  if (!setting->mutable_at_runtime) {
    return "ERR CONFIG SET failed (possibly related to argument '" + std::string(name) +
           "') - can't set immutable config";
  }
  std::lock_guard lock(mu_);
  Config updated = config_;
  if (auto err = setting->set(updated, value)) {
    return "ERR CONFIG SET failed (possibly related to argument '" + std::string(name) + "') - " +
           *err;
  }
  config_ = std::move(updated);
  return std::nullopt;
}

}  // namespace tally::server
