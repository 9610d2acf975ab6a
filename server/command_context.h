// Everything one command invocation works with: its arguments, where its
// reply goes, the calling client's state and the server's shared services.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/reply_writer.h"
#include "server/acl.h"
#include "server/client_registry.h"
#include "server/server_context.h"
#include "server/watch_registry.h"
#include "storage/keyspace.h"

namespace tally::server {

struct CommandSpec;

// A command queued between MULTI and EXEC, already checked for arity and
// authentication.
struct QueuedCommand {
  const CommandSpec* spec;
  std::vector<std::string> args;
};

struct TransactionState {
  bool active = false;  // between MULTI and EXEC / DISCARD
  bool failed = false;  // a command was refused while queuing: EXEC aborts
  std::vector<QueuedCommand> queued;
  // Bytes of the queued arguments: they count towards the client's query
  // buffer limit, as in Redis 7, so MULTI cannot hoard unbounded memory.
  size_t queued_bytes = 0;
};

// Per-connection state that commands read and change.
struct ClientState {
  uint64_t id = 0;
  bool authenticated = false;
  // Whose permissions apply (the default user until AUTH). Null for the
  // REST front end, whose tokens decide instead (server/http/access.h).
  std::shared_ptr<const acl::User> user;
  // Set by QUIT (and protocol errors): close once the pending replies are sent.
  bool close_after_reply = false;
  // What CLIENT LIST shows of this client (name, library, last command...).
  std::shared_ptr<ClientRecord> record = std::make_shared<ClientRecord>();
  TransactionState transaction;
  Watcher watcher;
  // CLIENT REPLY: OFF drops every reply; SKIP drops the next command's.
  bool reply_off = false;
  bool reply_skip_next = false;  // set by CLIENT REPLY SKIP ...
  bool reply_skip = false;       // ... which drops the reply of the command after it
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
