// Connection-level commands: PING, ECHO, QUIT, SELECT, AUTH. HELLO, CLIENT and
// RESET live in client_commands.cc.
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

// AUTH password | AUTH username password.
void Auth(CommandContext& ctx) {
  if (ctx.argc() > 3) return ctx.reply.Error(kErrSyntax);
  const std::string requirepass = ctx.server.config.Snapshot().requirepass;
  if (ctx.argc() == 2 && ctx.server.users.Default(requirepass)->nopass()) {
    return ctx.reply.Error(
        "ERR AUTH <password> called without any password configured for the default user. "
        "Are you sure your configuration is correct?");
  }
  std::string_view user = ctx.argc() == 3 ? ctx.arg(1) : std::string_view("default");
  if (Authenticate(ctx, user, ctx.arg(ctx.argc() - 1))) ctx.reply.Ok();
}

bool Authenticate(CommandContext& ctx, std::string_view name, std::string_view password) {
  const std::string requirepass = ctx.server.config.Snapshot().requirepass;
  auto user = ctx.server.users.Find(name, requirepass);
  // The password is checked before `on`, so a disabled user's refusal takes
  // as long as a wrong password's.
  if (user == nullptr || !user->CheckPassword(password) || !user->enabled()) {
    ctx.reply.Error(acl::kWrongPassError);
    return false;
  }
  ctx.client.record->set_user(user->name());
  ctx.client.user = std::move(user);
  ctx.client.authenticated = true;
  return true;
}

void SetDefaultUser(ClientState& client, ServerContext& server) {
  client.user = server.users.Default(server.config.Snapshot().requirepass);
  client.authenticated = client.user->nopass() && client.user->enabled();
  client.record->set_user(client.user->name());
}

}  // namespace tally::server::commands
