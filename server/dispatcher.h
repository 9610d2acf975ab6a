// Runs one request through the command table: lookup (subcommands included),
// arity and authentication checks with Redis's exact errors, MULTI queueing,
// then the handler. Used by every front end, so a command behaves the same
// however it arrives.
#pragma once

#include <string>
#include <vector>

#include "protocol/reply_writer.h"
#include "server/command_context.h"
#include "server/command_table.h"
#include "server/server_context.h"

namespace tally::server {

// Executes `args` (args[0] is the command name) and appends exactly one reply
// to `reply` (none while CLIENT REPLY OFF/SKIP says so). Inside MULTI the
// command is queued and may take over the contents of `args`. Never throws
// for bad input: every problem becomes an error reply.
void Dispatch(std::vector<std::string>& args, ClientState& client, protocol::ReplyWriter& reply,
              ServerContext& server);

// Runs a command that has passed every check: marks keys that others WATCH
// dirty (before the write, so EXEC's check cannot miss it), calls the
// handler, and records the call in the command statistics and, if it was
// slow, in the slow log. The caller holds an InFlightCommands::Scope
// when the command touches keys (Dispatch does; EXEC for its queue).
void RunCommand(const CommandSpec& spec, CommandContext& ctx);

}  // namespace tally::server
