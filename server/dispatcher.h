// Runs one request through the command table: lookup, arity and
// authentication checks with Redis's exact errors, then the handler. Used by
// every front end, so a command behaves the same however it arrives.
#pragma once

#include <string>
#include <vector>

#include "protocol/reply_writer.h"
#include "server/command_context.h"
#include "server/server_context.h"

namespace tally::server {

// Executes `args` (args[0] is the command name) and appends exactly one reply
// to `reply`. Never throws for bad input: every problem becomes an error reply.
void Dispatch(std::vector<std::string>& args, ClientState& client, protocol::ReplyWriter& reply,
              ServerContext& server);

}  // namespace tally::server
