// tally-server import: SCAN the source, SET into the destination, save the
// SCAN cursor after every batch the destination acknowledged.
//
// The destination is a running server (Tally by default on
// redis://127.0.0.1:6379), written with ordinary pipelined SETs: the import
// runs while Tally serves, every key goes through Tally's durable write path
// (a SET is acknowledged once it is in the write-ahead log, and fsynced with
// `durability always`), and the tool never opens RocksDB itself.
//
// Resuming is safe because of what SCAN guarantees: continuing an iteration
// from a saved cursor returns every key that existed throughout at least
// once, and copying a key again only overwrites it with the source's current
// value. So a state file saved after a batch was acknowledged may be resumed
// from after any interruption, even a kill -9 between two batches.
#include <fcntl.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "server/tools/key_source.h"
#include "server/tools/tool_common.h"
#include "server/tools/tools.h"

namespace tally::server::tools {
namespace {

namespace po = boost::program_options;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kUsage =
    "Usage: tally-server import --from URL [--to URL] [--match PATTERN] [options]\n\n"
    "Copies every string key (counters included) with its remaining time to live from\n"
    "a Redis-protocol server (Redis, Vercel KV / Upstash, another Tally) into a running\n"
    "Tally. Keys of other types are skipped and counted. Progress is saved after every\n"
    "batch; run the same command again to resume an interrupted import.\n";

// What the import has done, across runs; the state file holds it.
struct Progress {
  std::string cursor = "0";
  uint64_t copied = 0;
  uint64_t expired = 0;
  std::map<std::string, uint64_t> skipped;
  uint64_t batches = 0;
  double seconds = 0;  // time spent in earlier runs
};

// Identifies an import, so a state file is never resumed against another.
struct Identity {
  std::string source;
  std::string source_user;
  std::string destination;
  std::string match;
};

std::string DefaultStatePath(const RedisUrl& from, const std::string& match) {
  std::string host = from.host;
  for (char& c : host) {
    if (c == ':' || c == '/') c = '_';
  }
  std::string name = "tally-import-" + host + "-" + std::to_string(from.port);
  if (from.db != 0) name += "-db" + std::to_string(from.db);
  if (!match.empty()) {
    uint32_t hash = 2166136261u;  // FNV-1a: distinct state files per pattern
    for (unsigned char c : match) hash = (hash ^ c) * 16777619u;
    char hex[9];
    std::snprintf(hex, sizeof hex, "%08x", hash);
    name += std::string("-") + hex;
  }
  return name + ".state";
}

std::optional<std::string> LoadState(const std::string& path, const Identity& identity,
                                     Progress* progress, bool* found) {
  std::ifstream in(path);
  *found = static_cast<bool>(in);
  if (!*found) return std::nullopt;
  try {
    const auto state = nlohmann::json::parse(in);
    const Identity saved{state.at("source"), state.at("source_user"), state.at("destination"),
                         state.at("match")};
    if (saved.source != identity.source || saved.source_user != identity.source_user ||
        saved.destination != identity.destination || saved.match != identity.match) {
      return "the state file " + path + " belongs to another import (from " + saved.source +
             " to " + saved.destination + ", match '" + saved.match +
             "'): delete it to start over, or pass --state";
    }
    progress->cursor = state.at("cursor");
    progress->copied = state.at("copied");
    progress->expired = state.at("expired");
    progress->skipped = state.at("skipped").get<std::map<std::string, uint64_t>>();
    progress->batches = state.at("batches");
    progress->seconds = state.at("seconds");
  } catch (const nlohmann::json::exception& e) {
    return "the state file " + path + " is not valid (" + e.what() + "): delete it to start over";
  }
  return std::nullopt;
}

// Writes the state to a temporary file, fsyncs it and renames it over
// `path`, so the file is always either the old state or the new one.
std::optional<std::string> SaveState(const std::string& path, const Identity& identity,
                                     const Progress& progress) {
  const nlohmann::json state = {
      {"source", identity.source},           {"source_user", identity.source_user},
      {"destination", identity.destination}, {"match", identity.match},
      {"cursor", progress.cursor},           {"copied", progress.copied},
      {"expired", progress.expired},         {"skipped", progress.skipped},
      {"batches", progress.batches},         {"seconds", progress.seconds},
  };
  const std::string text = state.dump(2) + "\n";
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return "cannot write the state file " + tmp + ": " + std::strerror(errno);
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = ::fsync(fd) == 0 && ok;
  ok = ::close(fd) == 0 && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    return "cannot write the state file " + path + ": " + std::strerror(errno);
  }
  return std::nullopt;
}

// Writes one batch to the destination: SET with PX for the time the key had
// left when it was read, less the time since. Returns the number copied.
std::optional<std::string> WriteBatch(RespConnection& to, const SourceBatch& batch,
                                      uint64_t* copied, uint64_t* expired) {
  std::string request;
  std::vector<const SourceKey*> sent;
  const int64_t elapsed_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - batch.read_at).count();
  for (const auto& key : batch.keys) {
    if (key.pttl_ms < 0) {
      AppendCommand(&request, {"SET", key.key, key.value});
    } else {
      const int64_t left = key.pttl_ms - elapsed_ms;
      if (left <= 0) {
        ++*expired;
        continue;
      }
      AppendCommand(&request, {"SET", key.key, key.value, "PX", std::to_string(left)});
    }
    sent.push_back(&key);
  }
  if (sent.empty()) return std::nullopt;
  std::vector<protocol::Reply> replies;
  if (auto err = to.Pipeline(request, sent.size(), &replies)) return err;
  for (size_t i = 0; i < replies.size(); ++i) {
    if (replies[i].type != protocol::Reply::Type::kSimple || replies[i].str != "OK") {
      std::string key = nlohmann::json(sent[i]->key)
                            .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      return to.name() + " refused SET " + key + ": " +
             (replies[i].IsError() ? replies[i].str : "unexpected reply");
    }
  }
  *copied += sent.size();
  return std::nullopt;
}

std::string ProgressText(const Progress& total, uint64_t seen, int64_t estimate, bool all_keys,
                         double rate) {
  char line[256];
  if (all_keys && estimate > 0) {
    const double percent = std::min(99.0, 100.0 * static_cast<double>(seen) / estimate);
    std::snprintf(line, sizeof line,
                  "import: %" PRIu64 " keys copied, ~%.0f%% of ~%" PRId64 " keys, %.0f keys/s",
                  total.copied, percent, estimate, rate);
  } else {
    std::snprintf(line, sizeof line,
                  "import: %" PRIu64
                  " keys copied, %.0f keys/s (the source "
                  "holds ~%" PRId64 " keys of all kinds)",
                  total.copied, rate, estimate);
  }
  return line;
}

}  // namespace

int RunImport(int argc, char** argv) {
  SourceOptions source;
  std::string to_url;
  std::string state_path;
  int64_t max_batches = 0;
  po::options_description desc("Options");
  desc.add_options()("help,h", "Show this help and exit.");
  AddSourceOptions(&desc, &source, "");
  desc.add_options()(
      "to",
      po::value<std::string>(&to_url)->default_value("redis://127.0.0.1:6379")->value_name("URL"),
      "The running Tally (or any Redis) to write to, with SET.")(
      "state", po::value<std::string>(&state_path)->value_name("FILE"),
      "Progress file (default: tally-import-HOST-PORT[-...].state in the current directory). "
      "Resumed when it exists; deleted when the import completes.")(
      "max-batches", po::value<int64_t>(&max_batches)->value_name("N"),
      "Stop after N batches as if interrupted (for testing resumption).");
  int exit_code = 0;
  if (!ParseToolArguments(argc, argv, desc, kUsage, &exit_code)) return exit_code;

  auto fail = [](const std::string& message) {
    std::fprintf(stderr, "import: %s\n", message.c_str());
    return 1;
  };
  RedisUrl from, to;
  if (auto err = ParseRedisUrl(source.from, &from)) return fail("--from: " + *err);
  if (auto err = ParseRedisUrl(to_url, &to)) return fail("--to: " + *err);
  if (source.count < 1) return fail("--count must be at least 1");
  if (state_path.empty()) state_path = DefaultStatePath(from, source.match);

  const Identity identity{from.Display(), from.user, to.Display(), source.match};
  Progress total;
  bool resuming = false;
  if (auto err = LoadState(state_path, identity, &total, &resuming)) return fail(*err);

  std::unique_ptr<RespConnection> src, dst;
  if (auto err = RespConnection::Open(from, MakeConnectOptions(source, "source"), &src)) {
    return fail(*err);
  }
  if (auto err = RespConnection::Open(to, MakeConnectOptions(source, "destination"), &dst)) {
    return fail(*err);
  }
  KeySource reader(*src, source.match, source.count, total.cursor);
  int64_t estimate = 0;
  if (auto err = reader.CountKeys(&estimate)) return fail(*err);
  if (resuming) {
    std::fprintf(stderr,
                 "import: resuming from %s at cursor %s: %" PRIu64
                 " keys copied before, in %" PRIu64 " batches\n",
                 state_path.c_str(), total.cursor.c_str(), total.copied, total.batches);
  }

  InstallInterruptHandlers();
  ProgressLine progress_line;
  const auto started = Clock::now();
  const uint64_t copied_before = total.copied;
  uint64_t seen = total.copied + total.expired;  // keys looked at, for the estimate
  for (const auto& [type, n] : total.skipped) seen += n;
  int64_t batches_this_run = 0;
  std::string stopped;
  while (!reader.done()) {
    SourceBatch batch;
    if (auto err = reader.Next(&batch)) {
      progress_line.Clear();
      return fail(*err + " (progress is saved in " + state_path + ")");
    }
    total.expired += batch.vanished;
    if (auto err = WriteBatch(*dst, batch, &total.copied, &total.expired)) {
      progress_line.Clear();
      return fail(*err + " (progress is saved in " + state_path + ")");
    }
    for (const auto& [type, n] : batch.skipped_by_type) total.skipped[type] += n;
    seen += batch.keys.size() + batch.vanished;
    for (const auto& [type, n] : batch.skipped_by_type) seen += n;
    total.cursor = reader.cursor();
    ++total.batches;
    ++batches_this_run;
    const double run_seconds = std::chrono::duration<double>(Clock::now() - started).count();
    if (!reader.done()) {
      Progress saved = total;
      saved.seconds += run_seconds;
      if (auto err = SaveState(state_path, identity, saved)) return fail(*err);
    }
    progress_line.Update(ProgressText(total, seen, estimate, source.match.empty(),
                                      Rate(total.copied - copied_before, Clock::now() - started)));
    if (reader.done()) break;
    if (Interrupted()) {
      stopped = "interrupted";
      break;
    }
    if (max_batches > 0 && batches_this_run >= max_batches) {
      stopped = "stopped after " + std::to_string(batches_this_run) + " batches (--max-batches)";
      break;
    }
  }
  progress_line.Clear();

  const double run_seconds = std::chrono::duration<double>(Clock::now() - started).count();
  const uint64_t copied_now = total.copied - copied_before;
  if (!stopped.empty()) {
    std::fprintf(stderr,
                 "import: %s: %" PRIu64 " keys copied so far (%" PRIu64
                 " in this run, %.2f s); progress saved in %s. Run the same command again "
                 "to resume.\n",
                 stopped.c_str(), total.copied, copied_now, run_seconds, state_path.c_str());
    return 2;
  }
  std::error_code ec;
  std::filesystem::remove(state_path, ec);
  std::fprintf(stderr, "import: complete: %s copied from %s to %s in %.2f s (%.0f keys/s)",
               Keys(total.copied).c_str(), identity.source.c_str(), identity.destination.c_str(),
               total.seconds + run_seconds, Rate(copied_now, Clock::now() - started));
  if (resuming) std::fprintf(stderr, "; this run resumed and copied %" PRIu64, copied_now);
  std::fprintf(stderr, "\n");
  uint64_t skipped = 0;
  for (const auto& [type, n] : total.skipped) skipped += n;
  if (skipped > 0) {
    std::fprintf(stderr, "import: skipped %s of other types: %s\n", Keys(skipped).c_str(),
                 FormatByType(total.skipped).c_str());
  }
  std::fprintf(stderr, "import: %s expired or were deleted while being copied\n",
               Keys(total.expired).c_str());
  return 0;
}

}  // namespace tally::server::tools
