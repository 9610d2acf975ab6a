// SLOWLOG GET/LEN/RESET/HELP over the server's slow log (server/slowlog.h),
// with Redis 7's replies and errors.
#include "server/commands/commands.h"
#include "server/commands/common.h"
#include "storage/numbers.h"

namespace tally::server::commands {

// SLOWLOG GET [count]: the newest `count` entries (10 by default, all for
// -1), each [id, unix time, microseconds, [args...], "ip:port", name].
void SlowLogGet(CommandContext& ctx) {
  if (ctx.argc() > 3) {
    return ctx.reply.Error("ERR unknown subcommand or wrong number of arguments for '" +
                           std::string(ctx.arg(1).substr(0, 128)) + "'. Try SLOWLOG HELP.");
  }
  int64_t count = 10;
  if (ctx.argc() == 3) {
    auto parsed = ParseInt64(ctx.arg(2));
    if (!parsed || *parsed < -1) {
      return ctx.reply.Error("ERR count should be greater than or equal to -1");
    }
    count = *parsed;
  }
  const auto entries = ctx.server.slowlog.Newest(count);
  ctx.reply.ArrayHeader(entries.size());
  for (const auto& entry : entries) {
    ctx.reply.ArrayHeader(6);
    ctx.reply.Integer(static_cast<int64_t>(entry.id));
    ctx.reply.Integer(entry.unix_seconds);
    ctx.reply.Integer(entry.duration_us);
    ctx.reply.ArrayHeader(entry.args.size());
    for (const auto& arg : entry.args) ctx.reply.Bulk(arg);
    ctx.reply.Bulk(entry.client_addr);
    ctx.reply.Bulk(entry.client_name);
  }
}

void SlowLogLen(CommandContext& ctx) {
  ctx.reply.Integer(static_cast<int64_t>(ctx.server.slowlog.Length()));
}

void SlowLogReset(CommandContext& ctx) {
  ctx.server.slowlog.Reset();
  ctx.reply.Ok();
}

void SlowLogHelp(CommandContext& ctx) {
  ReplyHelp(ctx, "SLOWLOG",
            {"GET [<count>]",
             "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
             "    Entries are made of:",
             "    id, timestamp, time in microseconds, arguments array, client IP and port,",
             "    client name", "LEN", "    Return the length of the slowlog.", "RESET",
             "    Reset the slowlog."});
}

}  // namespace tally::server::commands
