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
  kAllowBusy = 1u << 9,
  kSkipSlowlog = 1u << 10,
  kNoMulti = 1u << 11,  // refused inside MULTI (SHUTDOWN).
  // Tally's own, not shown by COMMAND INFO: runs at once even inside MULTI
  // instead of being queued (EXEC, DISCARD, MULTI, WATCH, QUIT, RESET), as
  // Redis 7.0's processCommand decides by command.
  kNotQueued = 1u << 12,
  // Tally's own: may change any key, so every WATCH is dirtied (FLUSHDB).
  kTouchesAllKeys = 1u << 13,
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
  // Null for a container command (CLIENT, CONFIG, COMMAND ...): the
  // dispatcher then runs the row named "<container>|<subcommand>", which has
  // its own arity, flags and key positions, as Redis 7 does.
  CommandHandler handler;
  // The rest is documentation for COMMAND INFO / COMMAND DOCS.
  std::string_view since = {};  // Redis version that added the command.
  // The arguments, as COMMAND DOCS describes them (redis-cli's HELP and
  // hints), in a compact form: space-separated `name` or `name:type`
  // (key, string, integer, double, pattern, unix-time; a bare `key` is a
  // key, other bare names strings); an upper-case word is a pure token
  // ("GET"); `TOKEN=arg` introduces arg with a token ("EX=seconds:integer");
  // `name(a|b)` is one of a and b, `name(a b)` a block of both; `[arg]` is
  // optional and `arg...` repeats.
  std::string_view args = {};
  // ACL categories other than those the flags imply (@read, @write, @admin,
  // @dangerous, @fast, @slow), space separated. Empty: the group's own
  // category (@string, @keyspace, @connection, @transaction, @scripting).
  std::string_view acl_categories = {};
  // Key-spec flags of the keys, space separated ("RW access update").
  // Empty: "RW access update" for writes, "RO access" for reads.
  std::string_view key_flags = {};
  // The key spec's notes, where Redis gives some (SET: why its flags vary).
  std::string_view key_notes = {};
};

// Every command, subcommands included, in a stable order.
const std::vector<CommandSpec>& AllCommands();

// The top-level spec for `name` (any case), or nullptr if Tally has no such
// command. Subcommand rows are not found by their "a|b" names here.
const CommandSpec* FindCommand(std::string_view name);

// A container's subcommand `name` (any case), or nullptr.
const CommandSpec* FindSubcommand(const CommandSpec& container, std::string_view name);

// By Redis's full name, "get" or "config|get" (any case), as COMMAND INFO
// and COMMAND DOCS accept them.
const CommandSpec* FindCommandByFullName(std::string_view name);

// A container's subcommands in table order; empty for other commands.
const std::vector<const CommandSpec*>& Subcommands(const CommandSpec& container);
// Whether `spec` has subcommand rows: then a call with arguments names one
// of them (COMMAND alone runs COMMAND's own handler, COMMAND INFO the
// subcommand's). O(1).
bool HasSubcommands(const CommandSpec& spec);

// The command's ACL categories ("@read", "@write", "@string", ...): those its
// flags imply plus its row's own (or its group's), in Redis's order. COMMAND
// INFO shows them and ACL rules (+@read, -@write) select commands by them.
std::vector<std::string_view> AclCategories(const CommandSpec& spec);

// The position of `spec` in AllCommands(), which must hold it. O(1).
size_t CommandIndex(const CommandSpec& spec);

// Indexes of the key arguments in a call of `spec` with `argc` arguments,
// from the spec's first/last/step key positions (COMMAND GETKEYS, WATCH).
std::vector<size_t> KeyIndexes(const CommandSpec& spec, size_t argc);

inline bool IsContainer(const CommandSpec& spec) { return spec.handler == nullptr; }
inline bool IsSubcommand(const CommandSpec& spec) {
  return spec.name.find('|') != std::string_view::npos;
}

// Whether argc arguments satisfy the spec's arity.
inline bool ArityMatches(const CommandSpec& spec, size_t argc) {
  return spec.arity > 0 ? argc == static_cast<size_t>(spec.arity)
                        : argc >= static_cast<size_t>(-spec.arity);
}

}  // namespace tally::server
