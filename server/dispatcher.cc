#include "server/dispatcher.h"

#include <spdlog/spdlog.h>

#include <exception>

#include "server/command_table.h"

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

}  // namespace

void Dispatch(std::vector<std::string>& args, ClientState& client, protocol::ReplyWriter& reply,
              ServerContext& server) {
  const CommandSpec* spec = FindCommand(args[0]);
  if (spec == nullptr) return reply.Error(UnknownCommandError(args));
  if (!ArityMatches(*spec, args.size())) {
    return reply.Error("ERR wrong number of arguments for '" + std::string(spec->name) +
                       "' command");
  }
  if (!client.authenticated && !(spec->flags & kNoAuth)) {
    return reply.Error("NOAUTH Authentication required.");
  }
  server.stats.commands_processed.fetch_add(1, std::memory_order_relaxed);
  CommandContext ctx{args, reply, client, server};
  try {
    spec->handler(ctx);
  } catch (const std::exception& e) {
    // A bug or resource failure in one command must not take the server (or
    // this connection) down; report it like Redis reports internal errors.
    spdlog::error("command '{}' failed: {}", spec->name, e.what());
    reply.Error(std::string("ERR internal error: ") + e.what());
  }
}

}  // namespace tally::server
