#include "server/http/request_body.h"

#include <nlohmann/json.hpp>
#include <utility>

namespace tally::server::http {
namespace {

using json = nlohmann::json;

constexpr const char* kNotACommand =
    R"(ERR the request body must be a JSON array of command arguments, like ["incr","key"])";
constexpr const char* kNotACommandList =
    R"(ERR the request body must be a JSON array of commands, like [["incr","a"],["get","b"]])";
constexpr const char* kBadArgument =
    "ERR command arguments must be JSON strings, numbers, booleans or null";

// SAX events straight into argument vectors: no JSON tree is built, and a
// number keeps the exact token text the client sent.
class CommandsReader {
 public:
  // `list`: the body is an array of commands rather than one command.
  explicit CommandsReader(bool list) : list_(list) {}

  std::vector<Command>& commands() { return commands_; }
  const std::string& error() const { return error_; }

  bool null() { return Argument("null"); }
  bool boolean(bool value) { return Argument(value ? "true" : "false"); }
  bool number_integer(json::number_integer_t value) { return Argument(std::to_string(value)); }
  bool number_unsigned(json::number_unsigned_t value) { return Argument(std::to_string(value)); }
  bool number_float(json::number_float_t, const json::string_t& text) { return Argument(text); }
  bool string(json::string_t& value) { return Argument(std::move(value)); }
  bool binary(json::binary_t&) { return Fail(kBadArgument); }
  bool start_object(size_t) { return Fail(depth_ == 0 ? Shape() : kBadArgument); }
  bool key(json::string_t&) { return false; }
  bool end_object() { return false; }

  bool start_array(size_t) {
    ++depth_;
    if (depth_ == 1) {
      if (!list_) commands_.emplace_back();
      return true;
    }
    if (depth_ == 2 && list_) {
      commands_.emplace_back();
      return true;
    }
    // An array where an argument belongs.
    return Fail(kBadArgument);
  }

  bool end_array() {
    --depth_;
    return true;
  }

  bool parse_error(size_t, const std::string&, const nlohmann::detail::exception& e) {
    // what() is "[json.exception.parse_error.101] parse error at line 1, ...";
    // the bracketed tag means nothing to a client.
    std::string_view what = e.what();
    if (auto tag_end = what.find("] "); tag_end != std::string_view::npos) {
      what.remove_prefix(tag_end + 2);
    }
    return Fail("ERR invalid JSON in request body: " + std::string(what));
  }

 private:
  std::string Shape() const { return list_ ? kNotACommandList : kNotACommand; }

  bool Argument(std::string value) {
    // A scalar body, or a bare argument where a pipeline expects a command.
    if (depth_ == 0 || (list_ && depth_ == 1)) return Fail(Shape());
    commands_.back().push_back(std::move(value));
    return true;
  }

  bool Fail(std::string error) {
    if (error_.empty()) error_ = std::move(error);
    return false;
  }

  bool list_;
  int depth_ = 0;
  std::vector<Command> commands_;
  std::string error_;
};

std::optional<std::string> Read(std::string_view body, bool list, CommandsReader* reader) {
  if (json::sax_parse(body.begin(), body.end(), reader)) return std::nullopt;
  if (!reader->error().empty()) return reader->error();
  return std::string(list ? kNotACommandList : kNotACommand);
}

}  // namespace

std::optional<std::string> ParseCommandBody(std::string_view body, Command* command) {
  CommandsReader reader(/*list=*/false);
  if (auto error = Read(body, false, &reader)) return error;
  if (reader.commands().empty() || reader.commands()[0].empty()) return "ERR empty command";
  *command = std::move(reader.commands()[0]);
  return std::nullopt;
}

std::optional<std::string> ParseCommandListBody(std::string_view body,
                                                std::vector<Command>* commands) {
  CommandsReader reader(/*list=*/true);
  if (auto error = Read(body, true, &reader)) return error;
  if (reader.commands().empty()) return "ERR empty command list: send at least one command";
  for (size_t i = 0; i < reader.commands().size(); ++i) {
    if (reader.commands()[i].empty()) {
      return "ERR empty command at index " + std::to_string(i) + " of the command list";
    }
  }
  *commands = std::move(reader.commands());
  return std::nullopt;
}

}  // namespace tally::server::http
