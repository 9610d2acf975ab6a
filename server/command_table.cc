#include "server/command_table.h"

#include <cctype>
#include <string>
#include <unordered_map>

#include "server/commands/commands.h"

namespace tally::server {
namespace {

namespace c = commands;

constexpr uint32_t kW = kWrite | kDenyOom;
constexpr uint32_t kR = kReadonly;

// name, arity, flags, first key, last key, step, group, summary, handler.
// Arity and key positions are Redis 7.0's.
// clang-format off
const std::vector<CommandSpec> kCommands = {
    // Counters.
    {"incr", 2, kW | kFast, 1, 1, 1, "string", "Increment the integer value of a key by one", c::Incr},
    {"incrby", 3, kW | kFast, 1, 1, 1, "string", "Increment the integer value of a key by a number", c::IncrBy},
    {"decr", 2, kW | kFast, 1, 1, 1, "string", "Decrement the integer value of a key by one", c::Decr},
    {"decrby", 3, kW | kFast, 1, 1, 1, "string", "Decrement the integer value of a key by a number", c::DecrBy},
    {"incrbyfloat", 3, kW | kFast, 1, 1, 1, "string", "Increment the float value of a key by a number", c::IncrByFloat},
    // Strings.
    {"get", 2, kR | kFast, 1, 1, 1, "string", "Get the value of a key", c::Get},
    {"set", -3, kW, 1, 1, 1, "string", "Set the string value of a key", c::Set},
    {"setnx", 3, kW | kFast, 1, 1, 1, "string", "Set the value of a key, only if the key does not exist", c::SetNx},
    {"setex", 4, kW, 1, 1, 1, "string", "Set the value and expiration of a key", c::SetEx},
    {"psetex", 4, kW, 1, 1, 1, "string", "Set the value and expiration in milliseconds of a key", c::PSetEx},
    {"getset", 3, kW | kFast, 1, 1, 1, "string", "Set the string value of a key and return its old value", c::GetSet},
    {"getdel", 2, kW | kFast, 1, 1, 1, "string", "Get the value of a key and delete the key", c::GetDel},
    {"strlen", 2, kR | kFast, 1, 1, 1, "string", "Get the length of the value stored in a key", c::Strlen},
    {"mget", -2, kR | kFast, 1, -1, 1, "string", "Get the values of all the given keys", c::MGet},
    {"mset", -3, kW, 1, -1, 2, "string", "Set multiple keys to multiple values", c::MSet},
    {"msetnx", -3, kW, 1, -1, 2, "string", "Set multiple keys to multiple values, only if none of the keys exist", c::MSetNx},
    // Keyspace.
    {"del", -2, kWrite, 1, -1, 1, "generic", "Delete a key", c::Del},
    {"unlink", -2, kWrite | kFast, 1, -1, 1, "generic", "Delete a key", c::Del},
    {"exists", -2, kR | kFast, 1, -1, 1, "generic", "Determine if a key exists", c::Exists},
    {"type", 2, kR | kFast, 1, 1, 1, "generic", "Determine the type stored at key", c::Type},
    {"keys", 2, kR, 0, 0, 0, "generic", "Find all keys matching the given pattern", c::Keys},
    {"scan", -2, kR, 0, 0, 0, "generic", "Incrementally iterate the keys space", c::Scan},
    {"dbsize", 1, kR | kFast, 0, 0, 0, "server", "Return the number of keys in the selected database", c::DbSize},
    {"flushdb", -1, kWrite, 0, 0, 0, "server", "Remove all keys from the current database", c::FlushDb},
    {"flushall", -1, kWrite, 0, 0, 0, "server", "Remove all keys from all databases", c::FlushDb},
    {"expire", -3, kWrite | kFast, 1, 1, 1, "generic", "Set a key's time to live in seconds", c::Expire},
    {"pexpire", -3, kWrite | kFast, 1, 1, 1, "generic", "Set a key's time to live in milliseconds", c::PExpire},
    {"expireat", -3, kWrite | kFast, 1, 1, 1, "generic", "Set the expiration for a key as a UNIX timestamp", c::ExpireAt},
    {"pexpireat", -3, kWrite | kFast, 1, 1, 1, "generic", "Set the expiration for a key as a UNIX timestamp specified in milliseconds", c::PExpireAt},
    {"ttl", 2, kR | kFast, 1, 1, 1, "generic", "Get the time to live for a key in seconds", c::Ttl},
    {"pttl", 2, kR | kFast, 1, 1, 1, "generic", "Get the time to live for a key in milliseconds", c::PTtl},
    {"persist", 2, kWrite | kFast, 1, 1, 1, "generic", "Remove the expiration from a key", c::Persist},
    // Connection.
    {"ping", -1, kFast, 0, 0, 0, "connection", "Ping the server", c::Ping},
    {"echo", 2, kFast, 0, 0, 0, "connection", "Echo the given string", c::Echo},
    {"quit", -1, kNoAuth | kFast | kLoading | kStale, 0, 0, 0, "connection", "Close the connection", c::Quit},
    {"select", 2, kFast | kLoading | kStale, 0, 0, 0, "connection", "Change the selected database for the current connection", c::Select},
    {"auth", -2, kNoAuth | kFast | kLoading | kStale | kNoScript, 0, 0, 0, "connection", "Authenticate to the server", c::Auth},
    // Server.
    {"shutdown", -1, kAdmin | kLoading | kStale | kNoScript, 0, 0, 0, "server", "Synchronously save the dataset to disk and then shut down the server", c::Shutdown},
    {"config", -2, kAdmin | kLoading | kStale | kNoScript, 0, 0, 0, "server", "Get or set configuration parameters", c::Config},
};
// clang-format on

std::string Lower(std::string_view name) {
  std::string out(name);
  for (auto& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

const std::unordered_map<std::string, const CommandSpec*>& Index() {
  static const auto* index = [] {
    auto* map = new std::unordered_map<std::string, const CommandSpec*>();
    for (const auto& spec : kCommands) map->emplace(std::string(spec.name), &spec);
    return map;
  }();
  return *index;
}

}  // namespace

const std::vector<CommandSpec>& AllCommands() { return kCommands; }

const CommandSpec* FindCommand(std::string_view name) {
  if (name.size() > 32) return nullptr;  // longer than any command name
  const auto& index = Index();
  auto it = index.find(Lower(name));
  return it == index.end() ? nullptr : it->second;
}

}  // namespace tally::server
