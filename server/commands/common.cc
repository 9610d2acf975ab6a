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
  if (status.code() == Code::kOk || status.code() == Code::kNotFound) {
    return ctx.reply.Null();  // not errors; callers normally handle these themselves.
  }
  ctx.reply.Error(StorageErrorText(status));
}

std::string StorageErrorText(const storage::Status& status) {
  using storage::Code;
  switch (status.code()) {
    case Code::kOk:
    case Code::kNotFound:
      break;
    case Code::kNotInteger:
      return std::string(kErrNotInteger);
    case Code::kNotFloat:
      return "ERR value is not a valid float";
    case Code::kOverflow:
      return "ERR increment or decrement would overflow";
    case Code::kNanOrInf:
      return "ERR increment would produce NaN or Infinity";
    case Code::kInvalidCursor:
      return "ERR invalid cursor";
    case Code::kIoError:
      return "ERR storage error: " + status.message();
    case Code::kDiskError:
      return "MISCONF Errors writing to the data directory: " + status.message() +
             ". Writes are refused until the disk is writable again; reads keep working.";
    case Code::kBusy:
      return "ERR Background save already in progress";
  }
  return "ERR storage error: " + status.message();
}

int64_t ProtoMaxBulkLen(CommandContext& ctx) {
  return ctx.server.config.Snapshot().proto_max_bulk_len;
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
