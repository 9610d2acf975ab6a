// Server administration: SHUTDOWN and CONFIG.
#include <spdlog/spdlog.h>

#include "server/commands/commands.h"
#include "server/commands/common.h"
#include "server/logging.h"
#include "storage/glob.h"

namespace tally::server::commands {
namespace {

// Redis settings that clients and tools read (redis-benchmark asks for save
// and appendonly) but which are fixed in Tally: its persistence is RocksDB's
// write-ahead log (appendfsync is the durability setting), and it has one
// database.
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

void ConfigSet(CommandContext& ctx) {
  if (ctx.argc() < 4 || ctx.argc() % 2 != 0) {
    return ctx.reply.Error("ERR wrong number of arguments for 'config|set' command");
  }
  for (size_t i = 2; i + 1 < ctx.argc(); i += 2) {
    if (auto err = ctx.server.config.Set(ctx.arg(i), ctx.arg(i + 1))) return ctx.reply.Error(*err);
  }
  // Settings that act on running components take effect here.
  ApplyLogLevel(ctx.server.config.Snapshot().loglevel);
  ctx.reply.Ok();
}

void ConfigResetStat(CommandContext& ctx) {
  auto& stats = ctx.server.stats;
  stats.commands_processed = 0;
  stats.connections_received = 0;
  stats.keyspace_hits = 0;
  stats.keyspace_misses = 0;
  ctx.reply.Ok();
}

}  // namespace

void Config(CommandContext& ctx) {
  std::string_view sub = ctx.arg(1);
  if (EqualsNoCase(sub, "get") && ctx.argc() >= 3) return ConfigGet(ctx);
  if (EqualsNoCase(sub, "set")) return ConfigSet(ctx);
  if (EqualsNoCase(sub, "resetstat") && ctx.argc() == 2) return ConfigResetStat(ctx);
  if (EqualsNoCase(sub, "get") || EqualsNoCase(sub, "resetstat")) {
    std::string name(sub);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return ctx.reply.Error("ERR wrong number of arguments for 'config|" + name + "' command");
  }
  ctx.reply.Error("ERR unknown subcommand '" + std::string(sub.substr(0, 128)) +
                  "'. Try CONFIG HELP.");
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

}  // namespace tally::server::commands
