// The one declarative table of commands. Dispatch, arity and unknown-command
// errors, authentication gating and (later) COMMAND/COMMAND DOCS replies are
// all driven from it, so a command exists exactly when it has a row here.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace tally::server {

struct CommandContext;
using CommandHandler = void (*)(CommandContext& ctx);

// Flags with the meaning Redis gives them in COMMAND INFO.
enum CommandFlag : uint32_t {
  kWrite = 1u << 0,     // may modify the keyspace.
  kReadonly = 1u << 1,  // only reads the keyspace.
  kAdmin = 1u << 2,     // administrative (SHUTDOWN, FLUSHALL, CONFIG ...).
  kFast = 1u << 3,      // O(1) or O(log N).
  kNoAuth = 1u << 4,    // allowed before AUTH (AUTH, HELLO, QUIT).
  kLoading = 1u << 5,   // allowed while loading.
  kStale = 1u << 6,
  kNoScript = 1u << 7,
  kDenyOom = 1u << 8,
};

struct CommandSpec {
  std::string_view name;  // lower case, as Redis names it.
  // Redis's arity: N > 0 means exactly N arguments including the name;
  // -N means at least N.
  int arity;
  uint32_t flags;
  // Key positions (1-based argument indexes; last_key -1 means the last
  // argument; 0/0/0 for commands without keys), as COMMAND INFO reports them.
  int first_key;
  int last_key;
  int key_step;
  std::string_view group;    // Redis's command group: "string", "keyspace", ...
  std::string_view summary;  // one line, as in COMMAND DOCS.
  CommandHandler handler;
};

// Every command, in a stable order.
const std::vector<CommandSpec>& AllCommands();

// The spec for `name` (any case), or nullptr if Tally has no such command.
const CommandSpec* FindCommand(std::string_view name);

// Whether argc arguments satisfy the spec's arity.
inline bool ArityMatches(const CommandSpec& spec, size_t argc) {
  return spec.arity > 0 ? argc == static_cast<size_t>(spec.arity)
                        : argc >= static_cast<size_t>(-spec.arity);
}

}  // namespace tally::server
