// Connection-level commands: PING, ECHO, QUIT, SELECT, AUTH.
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
  auto id = ParseInt64(ctx.arg(1));
  if (!id || *id < INT32_MIN || *id > INT32_MAX) return ctx.reply.Error("ERR invalid DB index");
  if (*id != 0) return ctx.reply.Error("ERR DB index is out of range");
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
  std::string_view given = ctx.arg(ctx.argc() - 1);
  // Compare in constant time so response timing does not leak the password.
  bool ok = user == "default" &&
            (password.empty() || (given.size() == password.size() &&
                                  CRYPTO_memcmp(given.data(), password.data(), given.size()) == 0));
  if (!ok) {
    return ctx.reply.Error("WRONGPASS invalid username-password pair or user is disabled.");
  }
  ctx.client.authenticated = true;
  ctx.reply.Ok();
}

}  // namespace tally::server::commands
