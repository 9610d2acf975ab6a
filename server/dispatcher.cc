#include "server/dispatcher.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <exception>
#include <optional>

#include "server/commands/commands.h"
#include "server/text.h"

namespace tally::server {
namespace {

// Redis formats arguments into error messages with printf's %s, which stops
// at the first NUL byte; mirror that so error texts match byte for byte.
std::string_view UpToNul(std::string_view s) { return s.substr(0, s.find('\0')); }

// "unknown command 'foo', with args beginning with: 'a' 'b' ", built exactly
// as Redis 7 builds it: at most 128 bytes of the name and about 128 of args.
std::string UnknownCommandError(const std::vector<std::string>& args) {
  std::string listed;
  for (size_t i = 1; i < args.size() && listed.size() < 128; ++i) {
    listed += '\'';
    listed += UpToNul(args[i]).substr(0, 128 - listed.size() + 1);
    listed += "' ";
  }
  return "ERR unknown command '" + std::string(UpToNul(args[0]).substr(0, 128)) +
         "', with args beginning with: " + listed;
}

// "unknown subcommand 'foo'. Try CLIENT HELP."
std::string UnknownSubcommandError(const CommandSpec& container, std::string_view sub) {
  return "ERR unknown subcommand '" + std::string(UpToNul(sub).substr(0, 128)) + "'. Try " +
         ToUpper(container.name) + " HELP.";
}

std::string ArityError(const CommandSpec& spec) {
  return "ERR wrong number of arguments for '" + std::string(spec.name) + "' command";
}

// A command refused before it runs. Inside MULTI the refusal also dooms the
// transaction, and a refused EXEC discards it at once (with EXECABORT even
// outside MULTI), as Redis's rejectCommand does. A known command counts the
// refusal in its rejected_calls (an unknown command or subcommand has nothing
// to count in).
void Reject(ClientState& client, protocol::ReplyWriter& reply, ServerContext& server,
            const CommandSpec* spec, std::string_view error) {
  if (spec != nullptr) server.command_stats.RecordRejected(*spec);
  if (spec != nullptr && spec->handler == commands::Exec) {
    commands::DiscardTransaction(client);
    if (error.starts_with("ERR ")) error.remove_prefix(4);
    return reply.Error("EXECABORT Transaction discarded because of: " + std::string(error));
  }
  if (!client.transaction.active) return reply.Error(error);
  client.transaction.failed = true;
  reply.Error(error);
}

// Before FLUSHDB or FLUSHALL: as in Redis, the watchers of the watched keys
// that exist are dirtied, not those of keys that were missing anyway. (A key
// created between this check and the flush is reported by its own write.)
void TouchExistingWatchedKeys(CommandContext& ctx) {
  const std::vector<std::string> watched = ctx.server.watches.WatchedKeys();
  std::vector<std::string_view> existing;
  for (const std::string& key : watched) {
    if (ctx.keyspace().Exists({key}) > 0) existing.push_back(key);
  }
  ctx.server.watches.Touch(existing);
}

// Resolves, checks and runs (or queues) one command, appending its reply.
void DispatchCommand(std::vector<std::string>& args, ClientState& client,
                     protocol::ReplyWriter& reply, ServerContext& server) {
  const CommandSpec* spec = FindCommand(args[0]);
  if (spec == nullptr) return Reject(client, reply, server, nullptr, UnknownCommandError(args));
  if (!ArityMatches(*spec, args.size())) {
    return Reject(client, reply, server, spec, ArityError(*spec));
  }
  if (args.size() >= 2 && HasSubcommands(*spec)) {
    const CommandSpec* sub = FindSubcommand(*spec, args[1]);
    if (sub == nullptr) {
      return Reject(client, reply, server, nullptr, UnknownSubcommandError(*spec, args[1]));
    }
    if (!ArityMatches(*sub, args.size()))
      return Reject(client, reply, server, sub, ArityError(*sub));
    spec = sub;
  }
  client.record->last_command.store(spec, std::memory_order_relaxed);
  if (!client.authenticated && !(spec->flags & kNoAuth)) {
    return Reject(client, reply, server, spec, "NOAUTH Authentication required.");
  }
  // ACL permissions, after authentication as in Redis (EXEC checks its
  // queue again: an AUTH inside MULTI may have changed the user).
  if (client.user != nullptr) {
    switch (acl::Check(*client.user, *spec, args.size())) {
      case acl::Denial::kNone:
        break;
      case acl::Denial::kCommand:
        return Reject(client, reply, server, spec, acl::NoPermissionError(*spec));
      case acl::Denial::kKeys:
        return Reject(client, reply, server, spec, acl::kNoKeyPermissionError);
    }
  }
  if (client.transaction.active && !(spec->flags & kNotQueued)) {
    if (spec->flags & kNoMulti) {
      return Reject(client, reply, server, spec, "ERR Command not allowed inside a transaction");
    }
    for (const auto& arg : args) client.transaction.queued_bytes += sizeof(arg) + arg.size();
    client.transaction.queued.push_back({spec, std::move(args)});
    client.record->multi_queued.store(static_cast<int>(client.transaction.queued.size()),
                                      std::memory_order_relaxed);
    return reply.Simple("QUEUED");
  }
  CommandContext ctx{args, reply, client, server};
  if (spec->flags & (kWrite | kReadonly)) {
    InFlightCommands::Scope in_flight(server.in_flight, server.keyspace);
    return RunCommand(*spec, ctx);
  }
  RunCommand(*spec, ctx);
}

}  // namespace

void RunCommand(const CommandSpec& spec, CommandContext& ctx) {
  // The keyspace reports each key a write changes (Server sets its write
  // observer); FLUSHDB and FLUSHALL change every key at once.
  if ((spec.flags & kTouchesAllKeys) && !ctx.server.watches.empty()) TouchExistingWatchedKeys(ctx);
  const std::string& out = *ctx.reply.buffer();
  const size_t reply_start = out.size();
  const auto started = std::chrono::steady_clock::now();
  try {
    spec.handler(ctx);
  } catch (const std::exception& e) {
    // A bug or resource failure in one command must not take the server (or
    // this connection) down; report it like Redis reports internal errors.
    spdlog::error("command '{}' failed: {}", spec.name, e.what());
    ctx.reply.Error(std::string("ERR internal error: ") + e.what());
  }
  const auto ns = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                            std::chrono::steady_clock::now() - started)
                                            .count());
  // Redis's failed_calls: the command ran and replied with an error (EXEC's
  // array of replies is not one; its queued commands count their own).
  const bool failed =
      out.size() > reply_start && (out[reply_start] == '-' || out[reply_start] == '!');
  ctx.server.command_stats.RecordCall(spec, ns, failed);
  const auto us = static_cast<int64_t>(ns / 1000);
  if (ctx.server.slowlog.IsSlow(us) && !(spec.flags & kSkipSlowlog)) {
    ctx.server.slowlog.Add(spec, ctx.args, us, ctx.client.record.get());
  }
}

void Dispatch(std::vector<std::string>& args, ClientState& client, protocol::ReplyWriter& reply,
              ServerContext& server) {
  client.record->last_active_ms.store(MonotonicMs(), std::memory_order_relaxed);
  std::string* out = reply.buffer();
  const size_t reply_start = out->size();
  DispatchCommand(args, client, reply, server);
  // CLIENT REPLY OFF / SKIP: the command ran, its reply is dropped. As in
  // Redis's resetClient, a SKIP takes effect for the command after it.
  if (client.reply_off || client.reply_skip) out->resize(reply_start);
  client.reply_skip = client.reply_skip_next;
  client.reply_skip_next = false;
}

}  // namespace tally::server
