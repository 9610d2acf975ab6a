#include "server/http/resp_to_json.h"

#include <openssl/evp.h>

#include <charconv>

namespace tally::server::http {
namespace {

// Replies nest only a few levels (EXEC inside a pipeline is the deepest Tally
// writes); the limit keeps a malformed buffer from recursing without bound.
constexpr int kMaxDepth = 64;

std::optional<int64_t> ParseLength(std::string_view text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

std::string Base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  // EVP_EncodeBlock writes a terminating NUL after the output; the string's
  // own terminator has room for it.
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                      reinterpret_cast<const unsigned char*>(bytes.data()),
                                      static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(written));
  return out;
}

nlohmann::json RestEntry::ToJson() const {
  nlohmann::json entry = nlohmann::json::object();
  if (is_error) {
    entry["error"] = error;
  } else {
    entry["result"] = result;
  }
  return entry;
}

std::optional<std::string_view> RespReplyReader::Line() {
  const size_t end = resp_.find("\r\n", pos_);
  if (end == std::string_view::npos) return std::nullopt;
  std::string_view line = resp_.substr(pos_, end - pos_);
  pos_ = end + 2;
  return line;
}

std::optional<std::string_view> RespReplyReader::Blob(std::string_view length_line) {
  auto length = ParseLength(length_line);
  if (!length || *length < 0) return std::nullopt;
  const size_t n = static_cast<size_t>(*length);
  if (resp_.size() - pos_ < n + 2 || resp_.substr(pos_ + n, 2) != "\r\n") return std::nullopt;
  std::string_view bytes = resp_.substr(pos_, n);
  pos_ += n + 2;
  return bytes;
}

nlohmann::json RespReplyReader::String(std::string_view bytes) const {
  if (encoding_ == StringEncoding::kBase64) return Base64Encode(bytes);
  return std::string(bytes);
}

bool RespReplyReader::Value(nlohmann::json* out, int depth) {
  if (depth > kMaxDepth || AtEnd()) return false;
  const char type = resp_[pos_++];
  auto line = Line();
  if (!line) return false;
  switch (type) {
    case '+':
    case '-':  // an error inside an array (EXEC's) is a string of the result
    case ',':  // RESP3 double: Upstash returns doubles as strings
    case '(':  // RESP3 big number: beyond what a JSON number keeps exactly
      *out = String(*line);
      return true;
    case ':': {
      auto value = ParseLength(*line);
      if (!value) return false;
      *out = *value;
      return true;
    }
    case '#':  // RESP3 boolean: JSON booleans would reach the app as undefined
      if (*line != "t" && *line != "f") return false;
      *out = *line == "t" ? 1 : 0;
      return true;
    case '_':
      *out = nullptr;
      return line->empty();
    case '$':
    case '!':
    case '=': {
      if (type == '$' && *line == "-1") {
        *out = nullptr;
        return true;
      }
      auto bytes = Blob(*line);
      if (!bytes) return false;
      // A verbatim string starts with its three-letter format and a colon.
      if (type == '=') {
        if (bytes->size() < 4 || (*bytes)[3] != ':') return false;
        bytes->remove_prefix(4);
      }
      *out = String(*bytes);
      return true;
    }
    case '*':
    case '~':
    case '>':
    case '%':
    case '|': {
      if (type == '*' && *line == "-1") {
        *out = nullptr;
        return true;
      }
      auto count = ParseLength(*line);
      if (!count || *count < 0) return false;
      // Every element takes at least three bytes, which bounds a bogus count.
      const size_t elements = static_cast<size_t>(*count) * (type == '%' || type == '|' ? 2 : 1);
      if (elements > (resp_.size() - pos_) / 3) return false;
      nlohmann::json array = nlohmann::json::array();
      for (size_t i = 0; i < elements; ++i) {
        nlohmann::json element;
        if (!Value(&element, depth + 1)) return false;
        array.push_back(std::move(element));
      }
      // An attribute annotates the reply that follows it, which is the value.
      if (type == '|') return Value(out, depth + 1);
      *out = std::move(array);
      return true;
    }
    default:
      return false;
  }
}

RestEntry RespReplyReader::Next() {
  RestEntry entry;
  const size_t start = pos_;
  if (!AtEnd() && (resp_[pos_] == '-' || resp_[pos_] == '!')) {
    const char type = resp_[pos_++];
    auto line = Line();
    std::optional<std::string_view> text = line;
    if (line && type == '!') text = Blob(*line);
    if (text) {
      entry.is_error = true;
      entry.error = std::string(*text);
      return entry;
    }
  } else if (Value(&entry.result, 0)) {
    return entry;
  }
  pos_ = resp_.size();
  entry = RestEntry();
  entry.is_error = true;
  entry.error = "ERR internal error: malformed reply at byte " + std::to_string(start);
  return entry;
}

std::optional<size_t> RespReplyReader::EnterArray() {
  if (AtEnd() || resp_[pos_] != '*') return std::nullopt;
  const size_t start = pos_++;
  auto line = Line();
  auto count = line ? ParseLength(*line) : std::nullopt;
  if (!count || *count < 0) {
    pos_ = start;
    return std::nullopt;
  }
  return static_cast<size_t>(*count);
}

}  // namespace tally::server::http
