// Server administration: SHUTDOWN, CONFIG, TIME, LASTSAVE, WAIT, and the
// FUNCTION / SCRIPT FLUSH that client libraries send when they reset state.
#include <spdlog/spdlog.h>

#include <chrono>
#include <set>

#include "server/commands/commands.h"
#include "server/commands/common.h"
#include "server/logging.h"
#include "storage/glob.h"
#include "storage/numbers.h"

namespace tally::server::commands {
namespace {

// Redis settings that clients and tools read (redis-benchmark asks for save
// and appendonly) but which are fixed in Tally: its persistence is RocksDB's
// write-ahead log (appendfsync is the durability setting), and it has one
// database and no memory limit or eviction.
struct FixedSetting {
  std::string_view name;
  std::string_view value;
};
constexpr FixedSetting kFixedSettings[] = {
    {"save", ""},
    {"appendonly", "yes"},
    {"databases", "1"},
    {"maxmemory", "0"},
    {"maxmemory-policy", "noeviction"},
};

const FixedSetting* FindFixedSetting(std::string_view name) {
  for (const auto& fixed : kFixedSettings) {
    if (EqualsNoCase(fixed.name, name)) return &fixed;
  }
  return nullptr;
}

std::string ConfigSetFailure(std::string_view name, std::string_view why) {
  return "ERR CONFIG SET failed (possibly related to argument '" + std::string(name) + "') - " +
         std::string(why);
}

}  // namespace

// CONFIG GET pattern [pattern ...]: every setting whose name matches one of
// the glob patterns, once. requirepass is shown in clear, as Redis 7.0 does.
void ConfigGet(CommandContext& ctx) {
  const server::Config config = ctx.server.config.Snapshot();
  std::vector<std::pair<std::string, std::string>> found;
  auto wanted = [&](std::string_view name) {
    for (size_t i = 2; i < ctx.argc(); ++i) {
      if (GlobMatch(ctx.arg(i), name, /*nocase=*/true)) return true;
    }
    return false;
  };
  for (const auto& setting : AllSettings()) {
    if (wanted(setting.name)) found.emplace_back(setting.name, setting.get(config));
  }
  for (const auto& fixed : kFixedSettings) {
    if (wanted(fixed.name)) found.emplace_back(fixed.name, fixed.value);
  }
  ctx.reply.MapHeader(found.size());
  for (const auto& [name, value] : found) {
    ctx.reply.Bulk(name);
    ctx.reply.Bulk(value);
  }
}

// CONFIG SET name value [name value ...]: all or nothing, with Redis's
// checks in Redis's order (unknown, immutable, duplicate, then each value).
// Setting a fixed or start-up-only setting to the value it already has is
// accepted, so scripts that "ensure" a setting work.
void ConfigSet(CommandContext& ctx) {
  if (ctx.argc() % 2 != 0) {
    return ctx.reply.Error("ERR wrong number of arguments for 'config|set' command");
  }
  const server::Config current = ctx.server.config.Snapshot();
  server::Config candidate = current;
  std::set<std::string> seen;
  std::vector<std::pair<std::string_view, std::string_view>> changes;
  for (size_t i = 2; i + 1 < ctx.argc(); i += 2) {
    std::string_view name = ctx.arg(i), value = ctx.arg(i + 1);
    const Setting* setting = FindSetting(name);
    const FixedSetting* fixed = setting ? nullptr : FindFixedSetting(name);
    if (setting == nullptr && fixed == nullptr) {
      return ctx.reply.Error("ERR Unknown option or number of arguments for CONFIG SET - '" +
                             std::string(name) + "'");
    }
    const bool same = setting ? setting->get(current) == value : fixed->value == value;
    if (!same && (fixed != nullptr || !setting->mutable_at_runtime)) {
      return ctx.reply.Error(ConfigSetFailure(name, "can't set immutable config"));
    }
    std::string canonical(setting ? setting->name : fixed->name);
    if (!seen.insert(canonical).second) {
      return ctx.reply.Error(ConfigSetFailure(name, "duplicate parameter"));
    }
    if (same) continue;
    if (auto err = setting->set(candidate, value))
      return ctx.reply.Error(ConfigSetFailure(name, *err));
    changes.emplace_back(name, value);
  }
  for (const auto& [name, value] : changes) {
    if (auto err = ctx.server.config.Set(name, value)) return ctx.reply.Error(*err);
  }
  // Settings that act on running components take effect here.
  const server::Config updated = ctx.server.config.Snapshot();
  ApplyLogLevel(updated.loglevel);
  ctx.server.slowlog.Configure(updated.slowlog_log_slower_than, updated.slowlog_max_len);
  ctx.reply.Ok();
}

// CONFIG RESETSTAT: what Redis resets (INFO stats, commandstats and
// latencystats); the slow log stays, as in Redis.
void ConfigResetStat(CommandContext& ctx) {
  auto& stats = ctx.server.stats;
  ctx.server.command_stats.Reset();
  stats.connections_received = 0;
  stats.keyspace_hits = 0;
  stats.keyspace_misses = 0;
  stats.net_input_bytes = 0;
  stats.net_output_bytes = 0;
  ctx.reply.Ok();
}

void ConfigHelp(CommandContext& ctx) {
  ReplyHelp(
      ctx, "CONFIG",
      {"GET <pattern>", "    Return parameters matching the glob-like <pattern> and their values.",
       "SET <directive> <value>", "    Set the configuration <directive> to <value>.", "RESETSTAT",
       "    Reset statistics reported by the INFO command."});
}

// SHUTDOWN [NOSAVE | SAVE] [NOW] [FORCE] [ABORT]. Every write is already
// durable, so the save options change nothing; the server stops accepting,
// finishes in-flight commands and closes the store cleanly.
void Shutdown(CommandContext& ctx) {
  for (size_t i = 1; i < ctx.argc(); ++i) {
    std::string_view opt = ctx.arg(i);
    if (EqualsNoCase(opt, "abort") && ctx.argc() == 2) {
      return ctx.reply.Error("ERR No shutdown in progress.");
    }
    if (!EqualsNoCase(opt, "nosave") && !EqualsNoCase(opt, "save") && !EqualsNoCase(opt, "now") &&
        !EqualsNoCase(opt, "force")) {
      return ctx.reply.Error(kErrSyntax);
    }
  }
  spdlog::warn("User requested shutdown...");
  ctx.client.close_after_reply = true;
  ctx.server.request_shutdown();
}

// TIME: [unix seconds, microseconds], both as bulk strings.
void Time(CommandContext& ctx) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
  ctx.reply.ArrayHeader(2);
  ctx.reply.Bulk(std::to_string(us / 1000000));
  ctx.reply.Bulk(std::to_string(us % 1000000));
}

// LASTSAVE: when the last checkpoint (SAVE/BGSAVE, persistence_commands.cc)
// finished; the start time if there was none, as in Redis.
void LastSave(CommandContext& ctx) { ctx.reply.Integer(LastSaveUnixSeconds(ctx.server)); }

// WAIT numreplicas timeout: Tally has no replicas, so after Redis's argument
// checks the answer is 0 at once (waiting out the timeout could not change it).
void Wait(CommandContext& ctx) {
  int64_t replicas, timeout;
  if (!ParseIntegerArg(ctx, ctx.arg(1), &replicas)) return;
  auto parsed = ParseInt64(ctx.arg(2));
  if (!parsed) return ctx.reply.Error("ERR timeout is not an integer or out of range");
  timeout = *parsed;
  if (timeout < 0) return ctx.reply.Error("ERR timeout is negative");
  ctx.reply.Integer(0);
}

// FUNCTION FLUSH / SCRIPT FLUSH [ASYNC|SYNC]: Tally runs no scripts or
// functions, so there is never anything to flush; they succeed for clients
// and test suites that reset a server with them.
void FunctionFlush(CommandContext& ctx) {
  if (ctx.argc() > 3) {
    return ctx.reply.Error(
        "ERR unknown subcommand or wrong number of arguments for 'FLUSH'. Try FUNCTION HELP.");
  }
  if (ctx.argc() == 3 && !EqualsNoCase(ctx.arg(2), "async") && !EqualsNoCase(ctx.arg(2), "sync")) {
    return ctx.reply.Error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
  }
  ctx.reply.Ok();
}

void FunctionHelp(CommandContext& ctx) {
  ReplyHelp(ctx, "FUNCTION",
            {"FLUSH [ASYNC|SYNC]", "    Delete all the libraries (Tally has none to delete)."});
}

void ScriptFlush(CommandContext& ctx) {
  if (ctx.argc() > 3 || (ctx.argc() == 3 && !EqualsNoCase(ctx.arg(2), "async") &&
                         !EqualsNoCase(ctx.arg(2), "sync"))) {
    return ctx.reply.Error("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
  }
  ctx.reply.Ok();
}

void ScriptHelp(CommandContext& ctx) {
  ReplyHelp(ctx, "SCRIPT",
            {"FLUSH [ASYNC|SYNC]",
             "    Flush the Lua scripts cache (Tally runs no scripts: nothing to flush)."});
}

}  // namespace tally::server::commands
