// Reads the JSON body of a REST request into command arguments. One command
// is `["incr","usage:tool"]`; a pipeline or transaction is an array of those.
//
// Arguments may be JSON strings, numbers, booleans or null, because the
// clients pass JavaScript values through (`["incrby","k",5]`). A number
// becomes its JSON token text exactly as the client wrote it (`5`, `0.1`,
// `1e+21`), so nothing is lost to a round trip through a double; true, false
// and null become those words. Objects are rejected: the clients stringify
// them before sending.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tally::server::http {

using Command = std::vector<std::string>;

// Parses one command. Returns an error text ("ERR ...") on malformed JSON, a
// body that is not an array of arguments, or an empty command.
std::optional<std::string> ParseCommandBody(std::string_view body, Command* command);

// Parses a pipeline or transaction: a non-empty array of non-empty commands.
std::optional<std::string> ParseCommandListBody(std::string_view body,
                                                std::vector<Command>* commands);

}  // namespace tally::server::http
