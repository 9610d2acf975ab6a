// Fuzzes the pure halves of the REST front end: request routing and the JSON
// body -> command arguments decoding on the way in, and RESP reply -> JSON on
// the way out (both string encodings). Invariants: no crash or sanitizer
// report; a decoded command is never empty and re-serialising its arguments
// as a JSON array decodes to the same arguments; every reply buffer converts
// to entries that each hold exactly one of "result" and "error" and dump to
// JSON text the way the handler sends it.
//
// Input: byte 0 picks the HTTP method, then the target up to the first
// newline, then the body (also read as a RESP reply buffer).
#include <boost/beast/http/verb.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/http/request_body.h"
#include "server/http/resp_to_json.h"
#include "server/http/route.h"
#include "tests/fuzz/fuzz_check.h"

namespace http = tally::server::http;
using json = nlohmann::json;

namespace {

// As the handler sends it: invalid UTF-8 in a result becomes U+FFFD.
std::string Dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

void CheckCommand(const http::Command& command) {
  FUZZ_CHECK(!command.empty());
  // The decoder validated the body as UTF-8, so each argument is valid UTF-8
  // and survives a strict dump.
  http::Command again;
  FUZZ_CHECK(!http::ParseCommandBody(json(command).dump(), &again));
  FUZZ_CHECK(again == command);
}

void DecodeBodies(std::string_view body) {
  http::Command command;
  if (!http::ParseCommandBody(body, &command)) CheckCommand(command);
  std::vector<http::Command> commands;
  if (!http::ParseCommandListBody(body, &commands)) {
    FUZZ_CHECK(!commands.empty());
    for (const http::Command& c : commands) CheckCommand(c);
  }
}

void ConvertReplies(std::string_view resp, http::StringEncoding encoding) {
  // As the transaction path reads it: an array header first, if any.
  http::RespReplyReader exec_reader(resp, encoding);
  if (auto count = exec_reader.EnterArray()) {
    for (size_t i = 0; i < *count && !exec_reader.AtEnd(); ++i) Dump(exec_reader.Next().ToJson());
  }
  // As the pipeline path reads it: one entry per reply until the end. Each
  // Next() consumes at least one byte, so this ends.
  http::RespReplyReader reader(resp, encoding);
  size_t entries = 0;
  while (!reader.AtEnd()) {
    const json entry = reader.Next().ToJson();
    FUZZ_CHECK(entry.size() == 1 && (entry.contains("result") || entry.contains("error")));
    Dump(entry);
    FUZZ_CHECK(++entries <= resp.size());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static constexpr boost::beast::http::verb kMethods[] = {
      boost::beast::http::verb::get, boost::beast::http::verb::post, boost::beast::http::verb::put,
      boost::beast::http::verb::head};
  const auto method = kMethods[data[0] % 4];
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const size_t newline = rest.find('\n');
  const std::string_view target =
      newline == std::string_view::npos ? rest : rest.substr(0, newline);
  const std::string_view body =
      newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);

  const http::Route route = http::RouteRequest(method, target, body);
  if (route.kind == http::Route::Kind::kPathCommand) FUZZ_CHECK(!route.args.empty());
  http::QueryToken(target);
  if (auto decoded = http::PercentDecode(target)) FUZZ_CHECK(decoded->size() <= target.size());

  DecodeBodies(body);
  DecodeBodies(rest);
  ConvertReplies(rest, http::StringEncoding::kUtf8);
  ConvertReplies(rest, http::StringEncoding::kBase64);
  return 0;
}
