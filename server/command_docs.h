// The arguments of a command as COMMAND DOCS describes them, parsed from the
// compact form in the command table (CommandSpec::args). redis-cli builds its
// HELP text and its input hints from them.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tally::server {

struct CommandArg {
  std::string name;
  std::string type;   // key, string, integer, double, pattern, unix-time,
                      // pure-token, oneof or block
  std::string token;  // "EX" in "EX seconds"; empty if none
  bool optional = false;
  bool multiple = false;
  std::vector<CommandArg> children;  // of a oneof or block
};

// Parses CommandSpec::args; nullopt if the text is malformed (a table bug,
// which the unit tests catch).
std::optional<std::vector<CommandArg>> ParseCommandArgs(std::string_view text);

}  // namespace tally::server
