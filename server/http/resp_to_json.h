// Turns RESP replies (as the command handlers wrote them with a ReplyWriter)
// into the JSON values of the Upstash REST API, so the HTTP front end reuses
// every command unchanged and only this file knows the mapping:
//
//   integer -> number          simple/bulk/verbatim string, double -> string
//   null, null array -> null   array, set, push, map (flattened) -> array
//   boolean -> 1 / 0           error -> {"error": text} at the top level
//
// The clients turn JSON booleans and objects into undefined, so neither is
// ever produced. With base64 encoding every string at every depth is base64
// (standard alphabet, padded): @upstash/redis asks for that by default and
// decodes each string it gets. Error texts are never encoded.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace tally::server::http {

enum class StringEncoding {
  kUtf8,    // strings as JSON text (invalid UTF-8 becomes U+FFFD when dumped)
  kBase64,  // the request carried `Upstash-Encoding: base64`
};

// One entry of a REST answer: the value of "result", or the text of "error".
struct RestEntry {
  bool is_error = false;
  nlohmann::json result;  // when !is_error
  std::string error;      // when is_error

  // {"result": ...} or {"error": "..."}; always exactly one of the two keys.
  nlohmann::json ToJson() const;
};

// Reads consecutive RESP2 or RESP3 replies from one buffer.
class RespReplyReader {
 public:
  RespReplyReader(std::string_view resp, StringEncoding encoding)
      : resp_(resp), encoding_(encoding) {}

  bool AtEnd() const { return pos_ >= resp_.size(); }

  // Converts the next complete reply. A malformed or truncated reply (never
  // written by Tally's ReplyWriter) becomes an error entry and ends the input,
  // so one bad reply cannot misalign the ones after it.
  RestEntry Next();

  // If the next reply is an array (EXEC's reply), consumes its header and
  // returns the element count, which the caller then reads with Next().
  // Otherwise consumes nothing and returns nullopt.
  std::optional<size_t> EnterArray();

 private:
  // Parses one reply at pos_ into *out; false on malformed input.
  bool Value(nlohmann::json* out, int depth);
  // The text up to the next CRLF, which is consumed; nullopt if there is none.
  std::optional<std::string_view> Line();
  // `len` bytes followed by CRLF; nullopt if the input is shorter.
  std::optional<std::string_view> Blob(std::string_view length_line);
  nlohmann::json String(std::string_view bytes) const;

  std::string_view resp_;
  size_t pos_ = 0;
  StringEncoding encoding_;
};

// Standard, padded base64 of `bytes`.
std::string Base64Encode(std::string_view bytes);

}  // namespace tally::server::http
