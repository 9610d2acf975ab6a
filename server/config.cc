#include "server/config.h"

#include <boost/program_options.hpp>
#include <fstream>
#include <sstream>
#include <thread>

#include "protocol/request_parser.h"
#include "server/text.h"
#include "storage/numbers.h"
#include "storage/wal_syncer.h"

namespace tally::server {
namespace {

namespace po = boost::program_options;

std::optional<std::string> SetInt(std::string_view value, int64_t min, int64_t max, int64_t* out) {
  auto parsed = ParseInt64(value);
  if (!parsed || *parsed < min || *parsed > max) {
    return "argument must be an integer between " + std::to_string(min) + " and " +
           std::to_string(max);
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

std::optional<std::string> SetDurability(Config& c, std::string_view v) {
  storage::Durability mode;
  if (!storage::ParseDurability(v, &mode)) return "argument must be always, everysec or none";
  c.durability = storage::DurabilityName(mode);
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
    {"port", "TCP port for RESP clients.", false, false,
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
    {"logfile", "Log file; empty logs to standard error.", false, false,
     [](const Config& c) { return c.logfile; },
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
    {"proto-max-bulk-len", "Largest accepted argument, e.g. 512mb.", true, false,
     [](const Config& c) { return std::to_string(c.proto_max_bulk_len); },
     [](Config& c, std::string_view v) -> std::optional<std::string> {
       auto bytes = ParseMemory(v);
       if (!bytes || *bytes < 1024 * 1024) return "argument must be a memory value >= 1mb";
       c.proto_max_bulk_len = *bytes;
       return std::nullopt;
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
       auto bytes = ParseMemory(v);
       if (!bytes) return "argument must be a memory value";
       c.counter_cache_size = *bytes;
       return std::nullopt;
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
       auto bytes = ParseMemory(v);
       if (!bytes || *bytes < 1024) return "argument must be a memory value >= 1kb";
       c.http_max_body_size = *bytes;
       return std::nullopt;
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

po::options_description CommandLineOptions() {
  po::options_description desc("Settings (each also valid in a config file as `name value`)");
  desc.add_options()("help,h", "Show this help and exit.")("version,v",
                                                           "Show the version and exit.");
  for (const auto& s : kSettings) {
    desc.add_options()(std::string(s.name).c_str(), po::value<std::string>(),
                       std::string(s.help).c_str());
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
    std::vector<std::string> words;
    if (!protocol::SplitInlineArgs(line, &words)) {
      return path + ":" + std::to_string(number) + ": unbalanced quotes";
    }
    if (words.empty() || words[0][0] == '#') continue;
    if (words.size() < 2) {
      return path + ":" + std::to_string(number) + ": setting '" + words[0] + "' needs a value";
    }
    // Only address and token lists take several words; others exactly one.
    std::string value = words[1];
    if (words.size() > 2) {
      if (!EqualsNoCase(words[0], "bind") && !EqualsNoCase(words[0], "http-bind") &&
          !EqualsNoCase(words[0], "http-token") && !EqualsNoCase(words[0], "http-readonly-token")) {
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
  // The file first, then the flags on top of it, as redis-server does.
  if (vm.count("config-file")) {
    if (auto err = LoadConfigFile(vm["config-file"].as<std::string>(), config)) return err;
  }
  for (const auto& s : kSettings) {
    std::string name(s.name);
    if (vm.count(name)) {
      if (auto err = ApplySetting(config, name, vm[name].as<std::string>())) return err;
    }
  }
  return std::nullopt;
}

std::string HelpText() {
  std::ostringstream out;
  out << "Usage: tally-server [config-file] [--setting value ...]\n\n"
         "Tally: a durable, Redis-compatible counter store on RocksDB.\n\n"
      << CommandLineOptions();
  return out.str();
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
