#include "server/tools/tool_common.h"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>

namespace tally::server::tools {
namespace {

namespace po = boost::program_options;

std::atomic<bool> g_interrupted{false};

void OnInterrupt(int signal) {
  if (g_interrupted.exchange(true)) {
    // The second one: stop now, the way the signal normally would.
    std::signal(signal, SIG_DFL);
    std::raise(signal);
  }
}

}  // namespace

void AddSourceOptions(po::options_description* desc, SourceOptions* out,
                      const std::string& default_from) {
  auto from = po::value<std::string>(&out->from)->value_name("URL");
  if (default_from.empty()) {
    from->required();
  } else {
    from->default_value(default_from);
  }
  desc->add_options()(
      "from", from,
      "Server to read: redis://[[user]:password@]host:port[/db], or rediss:// for TLS.")(
      "match", po::value<std::string>(&out->match)->value_name("PATTERN"),
      "Only keys matching this glob, e.g. 'usage:*' (SCAN MATCH).")(
      "count", po::value<int64_t>(&out->count)->default_value(1000)->value_name("N"),
      "Keys per SCAN step and per pipeline.")(
      "cacert", po::value<std::string>(&out->ca_file)->value_name("FILE"),
      "For rediss://: trust the CAs in this PEM file instead of the system's.")(
      "insecure", po::bool_switch(&out->insecure),
      "For rediss://: do not verify the server's certificate (testing only).")(
      "timeout", po::value<int64_t>(&out->timeout_seconds)->default_value(30)->value_name("S"),
      "Give up on a server that sends nothing for this many seconds.");
}

ConnectOptions MakeConnectOptions(const SourceOptions& options, std::string role) {
  ConnectOptions connect;
  connect.ca_file = options.ca_file;
  connect.insecure = options.insecure;
  connect.timeout = std::chrono::seconds(options.timeout_seconds);
  connect.role = std::move(role);
  return connect;
}

bool ParseToolArguments(int argc, char** argv, const po::options_description& desc,
                        std::string_view usage, int* exit_code) {
  const std::string name = argv[0];
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(desc).run(), vm);
    if (vm.count("help")) {
      std::cout << usage << "\n" << desc;
      *exit_code = 0;
      return false;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    std::fprintf(stderr, "tally-server %s: %s\nRun 'tally-server %s --help' for the options.\n",
                 name.c_str(), e.what(), name.c_str());
    *exit_code = 1;
    return false;
  }
  return true;
}

void InstallInterruptHandlers() {
  std::signal(SIGINT, OnInterrupt);
  std::signal(SIGTERM, OnInterrupt);
}

bool Interrupted() { return g_interrupted.load(); }

std::string Keys(uint64_t n) { return std::to_string(n) + (n == 1 ? " key" : " keys"); }

std::string FormatByType(const std::map<std::string, uint64_t>& counts) {
  std::string out;
  for (const auto& [type, n] : counts) {
    if (!out.empty()) out += ", ";
    out += type + " " + std::to_string(n);
  }
  return out;
}

double Rate(uint64_t keys, std::chrono::steady_clock::duration elapsed) {
  const double seconds = std::chrono::duration<double>(elapsed).count();
  return seconds > 0 ? static_cast<double>(keys) / seconds : 0.0;
}

ProgressLine::ProgressLine() {
  const char* term = std::getenv("TERM");
  enabled_ = isatty(STDERR_FILENO) && !(term && std::string_view(term) == "dumb");
}

void ProgressLine::Update(const std::string& text) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (shown_ && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  shown_ = true;
  // \r back to the start, \x1b[K erases what a longer line left behind.
  std::fprintf(stderr, "\r%s\x1b[K", text.c_str());
  std::fflush(stderr);
}

void ProgressLine::Clear() {
  if (!enabled_ || !shown_) return;
  std::fputs("\r\x1b[K", stderr);
  std::fflush(stderr);
  shown_ = false;
}

}  // namespace tally::server::tools
