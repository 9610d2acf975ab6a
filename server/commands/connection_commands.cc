// Connection-level commands: PING, ECHO, QUIT, SELECT, AUTH. HELLO, CLIENT and
// RESET live in client_commands.cc.
#include <openssl/crypto.h>

#include "server/commands/commands.h"
#include "server/commands/common.h"
#include "storage/numbers.h"

namespace tally::server::commands {

void Ping(CommandContext& ctx) {
  if (ctx.argc() > 2) {
    return ctx.reply.Error("ERR wrong number of arguments for 'ping' command");
  }
  if (ctx.argc() == 2) return ctx.reply.Bulk(ctx.arg(1));
  ctx.reply.Simple("PONG");
}

void Echo(CommandContext& ctx) { ctx.reply.Bulk(ctx.arg(1)); }

void Quit(CommandContext& ctx) {
  ctx.client.close_after_reply = true;
  ctx.reply.Ok();
}

// One database (0): Tally keeps a single keyspace per server.
void Select(CommandContext& ctx) {
  // Redis 7.0 parses the index with getIntFromObjectOrReply, whose errors
  // distinguish "not a number" from "not an int".
  int64_t id;
  if (!ParseIntegerArg(ctx, ctx.arg(1), &id)) return;
  if (id < INT32_MIN || id > INT32_MAX) {
    return ctx.reply.Error(
        "ERR value is out of range, value must between -2147483648 and 2147483647");
  }
  if (id != 0) return ctx.reply.Error("ERR DB index is out of range");
  ctx.reply.Ok();
}

// AUTH password | AUTH username password. The only user is "default", whose
// password is requirepass (no password: any password is accepted for it).
void Auth(CommandContext& ctx) {
  if (ctx.argc() > 3) return ctx.reply.Error(kErrSyntax);
  const std::string password = ctx.server.config.Snapshot().requirepass;
  if (ctx.argc() == 2 && password.empty()) {
    return ctx.reply.Error(
        "ERR AUTH <password> called without any password configured for the default user. "
        "Are you sure your configuration is correct?");
  }
  std::string_view user = ctx.argc() == 3 ? ctx.arg(1) : std::string_view("default");
  if (Authenticate(ctx, user, ctx.arg(ctx.argc() - 1))) ctx.reply.Ok();
}

bool Authenticate(CommandContext& ctx, std::string_view user, std::string_view given) {
  const std::string password = ctx.server.config.Snapshot().requirepass;
  // Compare in constant time so response timing does not leak the password.
  bool ok = user == "default" &&
            (password.empty() || (given.size() == password.size() &&
                                  CRYPTO_memcmp(given.data(), password.data(), given.size()) == 0));
  if (!ok) {
    ctx.reply.Error("WRONGPASS invalid username-password pair or user is disabled.");
    return false;
  }
  ctx.client.authenticated = true;
  return true;
}

}  // namespace tally::server::commands
