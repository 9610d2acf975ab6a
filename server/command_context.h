// Everything one command invocation works with: its arguments, where its
// reply goes, the calling client's state and the server's shared services.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/reply_writer.h"
#include "server/server_context.h"
#include "storage/keyspace.h"

namespace tally::server {

// Per-connection state that commands read and change.
struct ClientState {
  uint64_t id = 0;
  bool authenticated = false;
  std::string name;  // CLIENT SETNAME
  // Set by QUIT (and protocol errors): close once the pending replies are sent.
  bool close_after_reply = false;
};

struct CommandContext {
  std::vector<std::string>& args;
  protocol::ReplyWriter& reply;
  ClientState& client;
  ServerContext& server;

  storage::Keyspace& keyspace() { return server.keyspace; }
  size_t argc() const { return args.size(); }
  std::string_view arg(size_t i) const { return args[i]; }
};

}  // namespace tally::server
