// tally-server export: every string key with its expiry, to standard output,
// in one of two formats:
//
//   resp  one SET command per key in RESP, as `redis-cli --pipe` loads it:
//         SET key value, or SET key value PXAT <unix ms> for a key with a
//         time to live (its absolute expiry moment, so a dump loaded later
//         expires its keys when the originals would have).
//   json  one JSON object per line: {"key":...,"value":...,"pttl":...}.
//         pttl is the milliseconds the key had left when it was read, or -1
//         for no expiry. A key or value that is not valid UTF-8 is given as
//         "key_base64" / "value_base64" (standard, padded base64) instead,
//         so every byte survives.
//
// The source is read with SCAN like import: not a point-in-time snapshot of
// a server that is being written (export a restored checkpoint for that).
#include <cinttypes>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "protocol/reply_writer.h"
#include "server/http/resp_to_json.h"
#include "server/tools/key_source.h"
#include "server/tools/tool_common.h"
#include "server/tools/tools.h"

namespace tally::server::tools {
namespace {

namespace po = boost::program_options;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kUsage =
    "Usage: tally-server export --format resp|json [--from URL] [--match PATTERN] [options]\n\n"
    "Writes every string key (counters included) with its expiry to standard output:\n"
    "  resp  SET commands that `redis-cli --pipe` loads into Tally or Redis\n"
    "  json  one {\"key\":...,\"value\":...,\"pttl\":...} object per line (pttl -1: no\n"
    "        expiry; key_base64 / value_base64 instead for bytes that are not UTF-8)\n";

// Well-formed UTF-8 as JSON requires: no overlong forms, no surrogates,
// nothing above U+10FFFF.
bool IsUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += len;
  }
  return true;
}

void AppendJson(const SourceKey& key, std::string* out) {
  nlohmann::ordered_json line = nlohmann::ordered_json::object();
  if (IsUtf8(key.key)) {
    line["key"] = key.key;
  } else {
    line["key_base64"] = http::Base64Encode(key.key);
  }
  if (IsUtf8(key.value)) {
    line["value"] = key.value;
  } else {
    line["value_base64"] = http::Base64Encode(key.value);
  }
  line["pttl"] = key.pttl_ms;
  *out += line.dump();
  *out += '\n';
}

void AppendResp(const SourceKey& key, std::chrono::system_clock::time_point read_at,
                std::string* out) {
  if (key.pttl_ms < 0) {
    AppendCommand(out, {"SET", key.key, key.value});
    return;
  }
  const int64_t read_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(read_at.time_since_epoch()).count();
  AppendCommand(out, {"SET", key.key, key.value, "PXAT", std::to_string(read_ms + key.pttl_ms)});
}

}  // namespace

int RunExport(int argc, char** argv) {
  SourceOptions source;
  std::string format;
  po::options_description desc("Options");
  desc.add_options()("help,h", "Show this help and exit.")(
      "format", po::value<std::string>(&format)->required()->value_name("resp|json"),
      "resp: SET commands for redis-cli --pipe; json: one object per line.");
  AddSourceOptions(&desc, &source, "redis://127.0.0.1:6379");
  int exit_code = 0;
  if (!ParseToolArguments(argc, argv, desc, kUsage, &exit_code)) return exit_code;

  auto fail = [](const std::string& message) {
    std::fprintf(stderr, "export: %s\n", message.c_str());
    return 1;
  };
  if (format != "resp" && format != "json") return fail("--format must be resp or json");
  if (source.count < 1) return fail("--count must be at least 1");
  RedisUrl from;
  if (auto err = ParseRedisUrl(source.from, &from)) return fail("--from: " + *err);
  std::unique_ptr<RespConnection> src;
  if (auto err = RespConnection::Open(from, MakeConnectOptions(source, "source"), &src)) {
    return fail(*err);
  }
  KeySource reader(*src, source.match, source.count);
  int64_t estimate = 0;
  if (auto err = reader.CountKeys(&estimate)) return fail(*err);

  InstallInterruptHandlers();
  ProgressLine progress_line;
  const auto started = Clock::now();
  uint64_t written = 0, expired = 0;
  std::map<std::string, uint64_t> skipped;
  std::string out;
  while (!reader.done()) {
    if (Interrupted()) {
      progress_line.Clear();
      std::fprintf(stderr, "export: interrupted after %" PRIu64 " keys: the output is incomplete\n",
                   written);
      return 2;
    }
    SourceBatch batch;
    if (auto err = reader.Next(&batch)) {
      progress_line.Clear();
      return fail(*err + " (the output is incomplete)");
    }
    out.clear();
    for (const auto& key : batch.keys) {
      if (format == "json") {
        AppendJson(key, &out);
      } else {
        AppendResp(key, batch.read_at_wall, &out);
      }
    }
    if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size()) {
      progress_line.Clear();
      return fail("cannot write to standard output");
    }
    written += batch.keys.size();
    expired += batch.vanished;
    for (const auto& [type, n] : batch.skipped_by_type) skipped[type] += n;
    char line[160];
    std::snprintf(line, sizeof line,
                  "export: %" PRIu64 " keys written (the source holds ~%" PRId64
                  " keys of all kinds), %.0f keys/s",
                  written, estimate, Rate(written, Clock::now() - started));
    progress_line.Update(line);
  }
  progress_line.Clear();
  if (std::fflush(stdout) != 0) return fail("cannot write to standard output");
  std::fprintf(stderr, "export: complete: %s written from %s in %.2f s\n", Keys(written).c_str(),
               from.Display().c_str(),
               std::chrono::duration<double>(Clock::now() - started).count());
  uint64_t skipped_total = 0;
  for (const auto& [type, n] : skipped) skipped_total += n;
  if (skipped_total > 0) {
    std::fprintf(stderr, "export: skipped %s of other types: %s\n", Keys(skipped_total).c_str(),
                 FormatByType(skipped).c_str());
  }
  std::fprintf(stderr, "export: %s expired or were deleted while being read\n",
               Keys(expired).c_str());
  return 0;
}

}  // namespace tally::server::tools
