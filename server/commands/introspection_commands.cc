// What clients ask about commands and keys rather than the data itself:
// COMMAND (generated from the command table), OBJECT and MEMORY USAGE.
#include <algorithm>
#include <limits>
#include <optional>

#include "server/command_docs.h"
#include "server/command_table.h"
#include "server/commands/commands.h"
#include "server/commands/common.h"
#include "server/text.h"
#include "storage/glob.h"
#include "storage/numbers.h"

namespace tally::server::commands {
namespace {

// COMMAND INFO flags, in the order Redis prints them.
std::vector<std::string_view> FlagNames(const CommandSpec& spec) {
  static constexpr std::pair<uint32_t, std::string_view> kOrder[] = {
      {kWrite, "write"},    {kReadonly, "readonly"},        {kDenyOom, "denyoom"},
      {kAdmin, "admin"},    {kNoScript, "noscript"},        {kLoading, "loading"},
      {kStale, "stale"},    {kSkipSlowlog, "skip_slowlog"}, {kFast, "fast"},
      {kNoAuth, "no_auth"}, {kNoMulti, "no_multi"},         {kAllowBusy, "allow_busy"},
  };
  std::vector<std::string_view> out;
  for (const auto& [flag, name] : kOrder) {
    if (spec.flags & flag) out.push_back(name);
  }
  return out;
}

std::vector<std::string_view> KeySpecFlags(const CommandSpec& spec) {
  if (!spec.key_flags.empty()) return Words(spec.key_flags);
  if (spec.flags & kWrite) return {"RW", "access", "update"};
  return {"RO", "access"};
}

void ReplyStatusSet(CommandContext& ctx, const std::vector<std::string_view>& items) {
  ctx.reply.SetHeader(items.size());
  for (auto item : items) ctx.reply.Simple(item);
}

// One command's COMMAND INFO entry (Redis 7's ten fields).
void ReplyCommandInfo(CommandContext& ctx, const CommandSpec& spec) {
  ctx.reply.ArrayHeader(10);
  ctx.reply.Bulk(spec.name);
  ctx.reply.Integer(spec.arity);
  ReplyStatusSet(ctx, FlagNames(spec));
  ctx.reply.Integer(spec.first_key);
  ctx.reply.Integer(spec.last_key);
  ctx.reply.Integer(spec.key_step);
  ReplyStatusSet(ctx, AclCategories(spec));
  ctx.reply.SetHeader(0);  // tips: Tally gives no routing hints (no cluster)
  if (spec.first_key > 0) {
    ctx.reply.ArrayHeader(1);
    ctx.reply.MapHeader(spec.key_notes.empty() ? 3 : 4);
    if (!spec.key_notes.empty()) {
      ctx.reply.Bulk("notes");
      ctx.reply.Bulk(spec.key_notes);
    }
    ctx.reply.Bulk("flags");
    ReplyStatusSet(ctx, KeySpecFlags(spec));
    ctx.reply.Bulk("begin_search");
    ctx.reply.MapHeader(2);
    ctx.reply.Bulk("type");
    ctx.reply.Bulk("index");
    ctx.reply.Bulk("spec");
    ctx.reply.MapHeader(1);
    ctx.reply.Bulk("index");
    ctx.reply.Integer(spec.first_key);
    ctx.reply.Bulk("find_keys");
    ctx.reply.MapHeader(2);
    ctx.reply.Bulk("type");
    ctx.reply.Bulk("range");
    ctx.reply.Bulk("spec");
    ctx.reply.MapHeader(3);
    ctx.reply.Bulk("lastkey");
    // Relative to the first key; negative counts from the end.
    ctx.reply.Integer(spec.last_key < 0 ? spec.last_key : spec.last_key - spec.first_key);
    ctx.reply.Bulk("keystep");
    ctx.reply.Integer(spec.key_step);
    ctx.reply.Bulk("limit");
    ctx.reply.Integer(0);
  } else {
    ctx.reply.ArrayHeader(0);
  }
  const auto& subcommands = Subcommands(spec);
  ctx.reply.ArrayHeader(subcommands.size());
  for (const CommandSpec* sub : subcommands) ReplyCommandInfo(ctx, *sub);
}

void ReplyDocArgs(CommandContext& ctx, const std::vector<CommandArg>& args) {
  ctx.reply.ArrayHeader(args.size());
  for (const CommandArg& arg : args) {
    std::vector<std::string_view> flags;
    if (arg.optional) flags.push_back("optional");
    if (arg.multiple) flags.push_back("multiple");
    const bool key = arg.type == "key";
    ctx.reply.MapHeader(2 + (key ? 1 : 0) + (arg.token.empty() ? 0 : 1) + (flags.empty() ? 0 : 1) +
                        (arg.children.empty() ? 0 : 1));
    ctx.reply.Bulk("name");
    ctx.reply.Bulk(arg.name);
    ctx.reply.Bulk("type");
    ctx.reply.Bulk(arg.type);
    if (key) {
      ctx.reply.Bulk("key_spec_index");
      ctx.reply.Integer(0);
    }
    if (!arg.token.empty()) {
      ctx.reply.Bulk("token");
      ctx.reply.Bulk(arg.token);
    }
    if (!flags.empty()) {
      ctx.reply.Bulk("flags");
      ReplyStatusSet(ctx, flags);
    }
    if (!arg.children.empty()) {
      ctx.reply.Bulk("arguments");
      ReplyDocArgs(ctx, arg.children);
    }
  }
}

// One command's COMMAND DOCS map: summary, since, group, arguments and
// subcommands.
void ReplyCommandDocs(CommandContext& ctx, const CommandSpec& spec) {
  const auto& subcommands = Subcommands(spec);
  const auto args = ParseCommandArgs(spec.args).value_or(std::vector<CommandArg>{});
  ctx.reply.MapHeader(3 + (args.empty() ? 0 : 1) + (subcommands.empty() ? 0 : 1));
  ctx.reply.Bulk("summary");
  ctx.reply.Bulk(spec.summary);
  ctx.reply.Bulk("since");
  ctx.reply.Bulk(spec.since);
  ctx.reply.Bulk("group");
  ctx.reply.Bulk(spec.group);
  if (!args.empty()) {
    ctx.reply.Bulk("arguments");
    ReplyDocArgs(ctx, args);
  }
  if (subcommands.empty()) return;
  ctx.reply.Bulk("subcommands");
  ctx.reply.MapHeader(subcommands.size());
  for (const CommandSpec* sub : subcommands) {
    ctx.reply.Bulk(sub->name);
    ReplyCommandDocs(ctx, *sub);
  }
}

std::vector<const CommandSpec*> TopLevelCommands() {
  std::vector<const CommandSpec*> out;
  for (const auto& spec : AllCommands()) {
    if (!IsSubcommand(spec)) out.push_back(&spec);
  }
  return out;
}

// The command a COMMAND GETKEYS call names, resolved like the dispatcher
// resolves it (a container with a subcommand argument means the subcommand).
const CommandSpec* ResolveForGetKeys(const CommandContext& ctx) {
  const CommandSpec* spec = FindCommand(ctx.arg(2));
  if (spec != nullptr && ctx.argc() >= 4 && HasSubcommands(*spec)) {
    spec = FindSubcommand(*spec, ctx.arg(3));
  }
  return spec;
}

// SET's argument is a GET option when it reads "get" in any case up to a NUL
// byte: Redis's setGetKeys compares the first four bytes of the C string, so
// "get\0x" counts, and it looks at every argument after the value without
// parsing them, so "SET k v EX get" counts too.
bool IsGetOptionForKeys(std::string_view arg) {
  return arg.size() >= 3 && EqualsNoCase(arg.substr(0, 3), "get") &&
         (arg.size() == 3 || arg[3] == '\0');
}

// The key-spec flags of one call of `spec` (its arguments from ctx.arg(2)).
// A row flagged variable_flags has flags that depend on the arguments, which
// Redis computes in the command's getkeys procedure; in Tally's table that is
// SET only: with GET it reads the old value (RW access update), without it
// overwrites (OW update).
std::vector<std::string_view> CallKeyFlags(const CommandSpec& spec, const CommandContext& ctx) {
  if (spec.handler != Set) return KeySpecFlags(spec);
  for (size_t i = 5; i < ctx.argc(); ++i) {
    if (IsGetOptionForKeys(ctx.arg(i))) return {"RW", "access", "update"};
  }
  return {"OW", "update"};
}

void GetKeys(CommandContext& ctx, bool with_flags) {
  const CommandSpec* spec = ResolveForGetKeys(ctx);
  if (spec == nullptr) return ctx.reply.Error("ERR Invalid command specified");
  if (spec->first_key <= 0) return ctx.reply.Error("ERR The command has no key arguments");
  const size_t argc = ctx.argc() - 2;
  if (!ArityMatches(*spec, argc)) {
    return ctx.reply.Error("ERR Invalid number of arguments specified for command");
  }
  const auto indexes = KeyIndexes(*spec, argc);
  if (indexes.empty()) return ctx.reply.Error("ERR Invalid arguments specified for command");
  ctx.reply.ArrayHeader(indexes.size());
  for (size_t i : indexes) {
    if (with_flags) {
      ctx.reply.ArrayHeader(2);
      ctx.reply.Bulk(ctx.arg(i + 2));
      ReplyStatusSet(ctx, CallKeyFlags(*spec, ctx));
    } else {
      ctx.reply.Bulk(ctx.arg(i + 2));
    }
  }
}

// How Redis would encode the string `value` (tryObjectEncoding): "int" when
// it is a canonical 64-bit integer of at most 20 characters, "embstr" up to
// 44 bytes, else "raw".
enum class Encoding { kInt, kEmbStr, kRaw };

Encoding EncodingOf(std::string_view value) {
  if (value.size() <= 20 && ParseInt64(value)) return Encoding::kInt;
  return value.size() <= 44 ? Encoding::kEmbStr : Encoding::kRaw;
}

// Looks the key up for OBJECT / MEMORY; replies null and returns false when
// it does not exist.
bool LookupValue(CommandContext& ctx, std::string* value) {
  auto status = ctx.keyspace().Get(ctx.arg(2), value);
  if (status.ok()) return true;
  if (status.code() == storage::Code::kNotFound) {
    ctx.reply.Null();
  } else {
    ReplyStorageError(ctx, status);
  }
  return false;
}

// The usable size jemalloc gives for an n-byte request: 8, then steps of 16
// up to 128, then four size classes per doubling.
size_t JemallocSize(size_t n) {
  if (n <= 8) return 8;
  if (n <= 128) return (n + 15) / 16 * 16;
  size_t group = 128;
  while (group * 2 < n) group *= 2;
  const size_t step = group / 4;
  return (n + step - 1) / step * step;
}

// Allocation of an sds string of `len` bytes with the smallest header that
// fits, as sdsnewlen picks it (keys shorter than 32 bytes get the 1-byte one).
size_t SdsSize(size_t len, bool allow_type5) {
  size_t header = len < 32 && allow_type5 && len > 0 ? 1
                  : len < (1u << 8)                  ? 3
                  : len < (1u << 16)                 ? 5
                  : len < (1ull << 32)               ? 9
                                                     : 17;
  return JemallocSize(header + len + 1);
}

}  // namespace

// COMMAND: COMMAND INFO for every command.
void Command(CommandContext& ctx) {
  const auto commands = TopLevelCommands();
  ctx.reply.ArrayHeader(commands.size());
  for (const CommandSpec* spec : commands) ReplyCommandInfo(ctx, *spec);
}

void CommandCount(CommandContext& ctx) {
  ctx.reply.Integer(static_cast<int64_t>(TopLevelCommands().size()));
}

// COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]:
// every command and subcommand name.
void CommandList(CommandContext& ctx) {
  enum { kAll, kModule, kAclCat, kPattern } filter = kAll;
  std::string_view value;
  if (ctx.argc() == 5 && EqualsNoCase(ctx.arg(2), "filterby")) {
    value = ctx.arg(4);
    if (EqualsNoCase(ctx.arg(3), "module")) {
      filter = kModule;
    } else if (EqualsNoCase(ctx.arg(3), "aclcat")) {
      filter = kAclCat;
    } else if (EqualsNoCase(ctx.arg(3), "pattern")) {
      filter = kPattern;
    } else {
      return ctx.reply.Error(kErrSyntax);
    }
  } else if (ctx.argc() != 2) {
    return ctx.reply.Error(kErrSyntax);
  }
  std::vector<std::string_view> names;
  for (const auto& spec : AllCommands()) {
    bool match = true;
    if (filter == kModule) {
      match = false;  // Tally has no modules
    } else if (filter == kAclCat) {
      const auto categories = AclCategories(spec);
      match = std::any_of(categories.begin(), categories.end(),
                          [&](std::string_view c) { return EqualsNoCase(c.substr(1), value); });
    } else if (filter == kPattern) {
      match = GlobMatch(value, spec.name, /*nocase=*/true);
    }
    if (match) names.push_back(spec.name);
  }
  ctx.reply.ArrayHeader(names.size());
  for (auto name : names) ctx.reply.Bulk(name);
}

// COMMAND INFO [name ...]: one entry per name (null for unknown names),
// every command without names.
void CommandInfo(CommandContext& ctx) {
  if (ctx.argc() == 2) return Command(ctx);
  ctx.reply.ArrayHeader(ctx.argc() - 2);
  for (size_t i = 2; i < ctx.argc(); ++i) {
    const CommandSpec* spec = FindCommandByFullName(ctx.arg(i));
    if (spec == nullptr) {
      ctx.reply.Null();
    } else {
      ReplyCommandInfo(ctx, *spec);
    }
  }
}

// COMMAND DOCS [name ...]: a map of name -> docs; unknown names are left out.
void CommandDocs(CommandContext& ctx) {
  std::vector<const CommandSpec*> specs;
  if (ctx.argc() == 2) {
    specs = TopLevelCommands();
  } else {
    for (size_t i = 2; i < ctx.argc(); ++i) {
      if (const CommandSpec* spec = FindCommandByFullName(ctx.arg(i))) specs.push_back(spec);
    }
  }
  ctx.reply.MapHeader(specs.size());
  for (const CommandSpec* spec : specs) {
    ctx.reply.Bulk(spec->name);
    ReplyCommandDocs(ctx, *spec);
  }
}

void CommandGetKeys(CommandContext& ctx) { GetKeys(ctx, false); }
void CommandGetKeysAndFlags(CommandContext& ctx) { GetKeys(ctx, true); }

void CommandHelp(CommandContext& ctx) {
  ReplyHelp(ctx, "COMMAND",
            {"(no subcommand)", "    Return details about all Redis commands.", "COUNT",
             "    Return the total number of commands in this Redis server.", "LIST",
             "    Return a list of all commands in this Redis server.", "INFO [<command-name> ...]",
             "    Return details about multiple Redis commands.",
             "    If no command names are given, documentation details for all",
             "    commands are returned.", "DOCS [<command-name> ...]",
             "    Return documentation details about multiple Redis commands.",
             "    If no command names are given, documentation details for all",
             "    commands are returned.", "GETKEYS <full-command>",
             "    Return the keys from a full Redis command.", "GETKEYSANDFLAGS <full-command>",
             "    Return the keys and the access flags from a full Redis command."});
}

void ObjectEncoding(CommandContext& ctx) {
  std::string value;
  if (!LookupValue(ctx, &value)) return;
  switch (EncodingOf(value)) {
    case Encoding::kInt:
      return ctx.reply.Bulk("int");
    case Encoding::kEmbStr:
      return ctx.reply.Bulk("embstr");
    case Encoding::kRaw:
      return ctx.reply.Bulk("raw");
  }
}

// Tally keeps no access statistics. Like Redis when its eviction policy does
// not track them, these say so instead of inventing a number.
void ObjectFreq(CommandContext& ctx) {
  std::string value;
  if (!LookupValue(ctx, &value)) return;
  ctx.reply.Error(
      "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note "
      "that when switching between policies at runtime LRU and LFU data will take some time to "
      "adjust.");
}

void ObjectIdleTime(CommandContext& ctx) {
  std::string value;
  if (!LookupValue(ctx, &value)) return;
  ctx.reply.Error("ERR Tally keeps no access times, idle time not tracked.");
}

// Redis shares one object for the integers 0..9999 (reported with refcount
// INT_MAX); every other value has one reference.
void ObjectRefCount(CommandContext& ctx) {
  std::string value;
  if (!LookupValue(ctx, &value)) return;
  auto number = EncodingOf(value) == Encoding::kInt ? ParseInt64(value) : std::nullopt;
  const bool shared = number && *number >= 0 && *number < 10000;
  ctx.reply.Integer(shared ? std::numeric_limits<int32_t>::max() : 1);
}

void ObjectHelp(CommandContext& ctx) {
  ReplyHelp(ctx, "OBJECT",
            {"ENCODING <key>",
             "    Return the kind of internal representation used in order to store the value",
             "    associated with a <key>.", "FREQ <key>",
             "    Return the access frequency index of the <key>. The returned integer is",
             "    proportional to the logarithm of the recent access frequency of the key.",
             "IDLETIME <key>",
             "    Return the idle time of the <key>, that is the approximated number of",
             "    seconds elapsed since the last access to the key.", "REFCOUNT <key>",
             "    Return the number of references of the value associated with the specified",
             "    <key>."});
}

// MEMORY USAGE key [SAMPLES count]: the bytes Redis would spend on this key
// and its value (dict entry, key string, value object), so tools that size
// keys see the numbers they know. Tally's own footprint is on disk, in
// RocksDB, and is usually smaller.
void MemoryUsage(CommandContext& ctx) {
  for (size_t j = 3; j < ctx.argc(); ++j) {
    if (EqualsNoCase(ctx.arg(j), "samples") && j + 1 < ctx.argc()) {
      int64_t samples;
      if (!ParseIntegerArg(ctx, ctx.arg(j + 1), &samples)) return;
      if (samples < 0) return ctx.reply.Error(kErrSyntax);
      ++j;
    } else {
      return ctx.reply.Error(kErrSyntax);
    }
  }
  std::string value;
  if (!LookupValue(ctx, &value)) return;
  constexpr size_t kObjectHeader = 16;  // sizeof(robj)
  constexpr size_t kDictEntry = 24;     // sizeof(dictEntry)
  size_t value_bytes = 0;
  switch (EncodingOf(value)) {
    case Encoding::kInt:
      value_bytes = kObjectHeader;
      break;
    case Encoding::kEmbStr:  // header, sdshdr8 and bytes in one allocation
      value_bytes = JemallocSize(kObjectHeader + 3 + value.size() + 1);
      break;
    case Encoding::kRaw:
      value_bytes = kObjectHeader + SdsSize(value.size(), /*allow_type5=*/false);
      break;
  }
  const size_t key_bytes = SdsSize(ctx.arg(2).size(), /*allow_type5=*/true);
  ctx.reply.Integer(static_cast<int64_t>(value_bytes + key_bytes + kDictEntry));
}

void MemoryHelp(CommandContext& ctx) {
  ReplyHelp(ctx, "MEMORY",
            {"USAGE <key> [SAMPLES <count>]",
             "    Return memory in bytes used by <key> and its value. Nested values are",
             "    sampled up to <count> times (default: 5, 0 means sample all)."});
}

}  // namespace tally::server::commands
