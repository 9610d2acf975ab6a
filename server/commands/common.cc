#include "server/commands/common.h"

#include <cctype>
#include <chrono>
#include <string>

#include "storage/numbers.h"

namespace tally::server {

bool ParseIntegerArg(CommandContext& ctx, std::string_view text, int64_t* out) {
  auto value = ParseInt64(text);
  if (!value) {
    ctx.reply.Error(kErrNotInteger);
    return false;
  }
  *out = *value;
  return true;
}

void ReplyStorageError(CommandContext& ctx, const storage::Status& status) {
  using storage::Code;
  switch (status.code()) {
    case Code::kOk:
    case Code::kNotFound:
      ctx.reply.Null();  // not errors; callers normally handle these themselves.
      return;
    case Code::kNotInteger:
      ctx.reply.Error(kErrNotInteger);
      return;
    case Code::kNotFloat:
      ctx.reply.Error("ERR value is not a valid float");
      return;
    case Code::kOverflow:
      ctx.reply.Error("ERR increment or decrement would overflow");
      return;
    case Code::kNanOrInf:
      ctx.reply.Error("ERR increment would produce NaN or Infinity");
      return;
    case Code::kInvalidCursor:
      ctx.reply.Error("ERR invalid cursor");
      return;
    case Code::kIoError:
      ctx.reply.Error("ERR storage error: " + status.message());
      return;
    case Code::kDiskError:
      ctx.reply.Error("MISCONF Errors writing to the data directory: " + status.message() +
                      ". Writes are refused until the disk is writable again; reads keep working.");
      return;
    case Code::kBusy:
      ctx.reply.Error("ERR Background save already in progress");
      return;
  }
}

void ReplyInvalidExpireTime(CommandContext& ctx) {
  ctx.reply.Error("ERR invalid expire time in '" + CommandName(ctx) + "' command");
}

std::vector<std::string_view> ArgsFrom(const CommandContext& ctx, size_t first, size_t step) {
  std::vector<std::string_view> out;
  out.reserve((ctx.argc() - first + step - 1) / step);
  for (size_t i = first; i < ctx.argc(); i += step) out.push_back(ctx.args[i]);
  return out;
}

std::string CommandName(const CommandContext& ctx) { return ToLower(ctx.args[0]); }

int64_t LastSaveUnixSeconds(ServerContext& server) {
  const int64_t checkpoint = server.keyspace.LastCheckpointUnixTime();
  return checkpoint != 0 ? checkpoint : server.stats.last_save_unix.load(std::memory_order_relaxed);
}

void ReplyHelp(CommandContext& ctx, std::string_view command,
               std::initializer_list<std::string_view> lines) {
  ctx.reply.ArrayHeader(lines.size() + 3);
  ctx.reply.Simple(std::string(command) +
                   " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
  for (auto line : lines) ctx.reply.Simple(line);
  ctx.reply.Simple("HELP");
  ctx.reply.Simple("    Prints this help.");
}

}  // namespace tally::server
