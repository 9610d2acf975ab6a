// Mirrors Redis 7.0's processInlineBuffer / processMultibulkBuffer
// (src/networking.c): the same limits, the same error texts, and the same
// leniencies (a header line ends at its first '\r' and is followed by any two
// bytes; a bulk is followed by any two bytes), so a client sees the replies it
// would get from redis-server.
//
// One deliberate difference: Redis searches for line ends with strchr(), which
// stops at a NUL byte, so a NUL before a line end makes it wait until the
// size limit trips. Here NUL is an ordinary byte.
#include "protocol/request_parser.h"

#include <algorithm>
#include <utility>

namespace tally::protocol {
namespace {

// Redis's string2ll (src/util.c): optional '-', then digits with no leading
// zero (except "0" itself), nothing else, and no overflow. So "+5", " 5",
// "05", "-0" and "" are all rejected, exactly as Redis rejects them.
bool ParseLength(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  if (s == "0") {
    *out = 0;
    return true;
  }
  const bool negative = s[0] == '-';
  if (negative) s.remove_prefix(1);
  if (s.empty() || s[0] < '1' || s[0] > '9') return false;
  // Accumulate as unsigned so the magnitude of INT64_MIN fits.
  constexpr uint64_t kMaxMagnitude = uint64_t{1} << 63;  // |INT64_MIN|
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (v > (kMaxMagnitude - digit) / 10) return false;
    v = v * 10 + digit;
  }
  if (negative) {
    *out = static_cast<int64_t>(0 - v);  // well defined: v <= 2^63
  } else {
    if (v > kMaxMagnitude - 1) return false;
    *out = static_cast<int64_t>(v);
  }
  return true;
}

// isspace() in the C locale, which sdssplitargs uses between arguments.
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// Inside an unquoted argument sdssplitargs stops only at these (not at \v or
// \f, which it keeps as part of the argument).
bool EndsBareWord(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

// The escapes sdssplitargs knows inside double quotes; any other escaped
// character stands for itself.
char Unescape(char c) {
  switch (c) {
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    case 'b':
      return '\b';
    case 'a':
      return '\a';
    default:
      return c;
  }
}

// Appends the quoted string that opens at line[*pos] to *arg and moves *pos
// past its closing quote. False if it is unterminated or the closing quote is
// followed by anything but whitespace.
bool ReadQuoted(std::string_view line, size_t* pos, std::string* arg) {
  const char quote = line[*pos];
  const size_t n = line.size();
  size_t i = *pos + 1;
  while (i < n) {
    const char c = line[i];
    if (c == quote) {
      if (i + 1 < n && !IsSpace(line[i + 1])) return false;
      *pos = i + 1;
      return true;
    }
    if (c == '\\' && i + 1 < n) {
      const char next = line[i + 1];
      if (quote == '"' && next == 'x' && i + 3 < n && IsHexDigit(line[i + 2]) &&
          IsHexDigit(line[i + 3])) {
        arg->push_back(static_cast<char>(HexValue(line[i + 2]) * 16 + HexValue(line[i + 3])));
        i += 4;
        continue;
      }
      if (quote == '"' || next == '\'') {  // in single quotes only \' is an escape
        arg->push_back(quote == '"' ? Unescape(next) : next);
        i += 2;
        continue;
      }
    }
    arg->push_back(c);
    ++i;
  }
  return false;
}

}  // namespace

bool SplitInlineArgs(std::string_view line, std::vector<std::string>* out) {
  out->clear();
  const size_t n = line.size();
  size_t i = 0;
  while (true) {
    while (i < n && IsSpace(line[i])) ++i;
    if (i == n) return true;
    std::string& arg = out->emplace_back();
    // Bare bytes, copied a run at a time, until a separator or a quote. A
    // quote continues the same argument (foo"bar" is "foobar") and must then
    // end it, as in Redis.
    while (i < n && !EndsBareWord(line[i])) {
      if (line[i] == '"' || line[i] == '\'') {
        if (!ReadQuoted(line, &i, &arg)) return false;
        break;
      }
      size_t end = i + 1;
      while (end < n && !EndsBareWord(line[end]) && line[end] != '"' && line[end] != '\'') ++end;
      arg.append(line.substr(i, end - i));
      i = end;
    }
  }
}

RequestParser::RequestParser(ParserLimits limits) : limits_(limits) {}

RequestParser::Status RequestParser::Parse(std::string_view data, size_t* consumed) {
  size_t pos = 0;
  Status status = Status::kNeedMore;
  // Loop only to skip empty requests (blank lines, *0): each pass either
  // returns a request or error, stalls for more bytes, or consumes something.
  while (pos < data.size()) {
    size_t used = 0;
    const bool in_multibulk = multibulk_remaining_ > 0;
    if (!in_multibulk) Reset();  // a new request starts: drop the previous args
    if (in_multibulk || data[pos] == '*') {
      status = ParseMultibulk(data.substr(pos), &used);
    } else {
      status = ParseInline(data.substr(pos), &used);
    }
    pos += used;
    if (status != Status::kNeedMore || used == 0) break;
  }
  *consumed = pos;
  return status;
}

RequestParser::Status RequestParser::ParseInline(std::string_view data, size_t* consumed) {
  *consumed = 0;
  const size_t newline = data.find('\n');
  if (newline == std::string_view::npos) {
    if (data.size() > limits_.max_inline_len) return Fail("Protocol error: too big inline request");
    return Status::kNeedMore;
  }
  std::string_view line = data.substr(0, newline);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (!SplitInlineArgs(line, &args_)) return Fail("Protocol error: unbalanced quotes in request");
  *consumed = newline + 1;
  // A line of only whitespace is no request; the caller keeps parsing.
  return args_.empty() ? Status::kNeedMore : Status::kRequest;
}

RequestParser::Status RequestParser::ParseMultibulk(std::string_view data, size_t* consumed) {
  *consumed = 0;
  size_t pos = 0;

  if (multibulk_remaining_ == 0) {
    // "*<count>\r\n". Like Redis, the line ends at the first '\r' and the
    // two bytes there are skipped unchecked.
    const size_t cr = data.find('\r');
    if (cr == std::string_view::npos) {
      if (data.size() > limits_.max_inline_len) {
        return Fail("Protocol error: too big mbulk count string");
      }
      return Status::kNeedMore;
    }
    if (cr + 2 > data.size()) return Status::kNeedMore;
    int64_t count = 0;
    if (!ParseLength(data.substr(1, cr - 1), &count) || count > limits_.max_multibulk_len) {
      return Fail("Protocol error: invalid multibulk length");
    }
    if (!authenticated_ && count > kUnauthenticatedMaxArgs) {
      return Fail("Protocol error: unauthenticated multibulk length");
    }
    pos = cr + 2;
    if (count <= 0) {
      *consumed = pos;  // *0 and *-1 are no request
      return Status::kNeedMore;
    }
    multibulk_remaining_ = count;
    bulk_len_ = -1;
  }

  while (multibulk_remaining_ > 0) {
    const std::string_view rest = data.substr(pos);
    if (bulk_len_ == -1) {
      // "$<len>\r\n": the limit applies before the '$' is checked, as in Redis.
      const size_t cr = rest.find('\r');
      if (cr == std::string_view::npos) {
        if (rest.size() > limits_.max_inline_len) {
          return Fail("Protocol error: too big bulk count string");
        }
        break;
      }
      if (cr + 2 > rest.size()) break;
      if (rest[0] != '$') {
        return Fail(std::string("Protocol error: expected '$', got '") + rest[0] + "'");
      }
      int64_t len = 0;
      if (!ParseLength(rest.substr(1, cr - 1), &len) || len < 0 || len > limits_.max_bulk_len) {
        return Fail("Protocol error: invalid bulk length");
      }
      if (!authenticated_ && len > kUnauthenticatedMaxBulkLen) {
        return Fail("Protocol error: unauthenticated bulk length");
      }
      pos += cr + 2;
      bulk_len_ = len;
      const size_t size = static_cast<size_t>(len);
      if (data.size() - pos >= size + 2) {
        // The common case: the whole argument is here, copy it in one go.
        args_.emplace_back(data.substr(pos, size));
        buffered_bytes_ += size;
        pos += size + 2;
        bulk_len_ = -1;
        --multibulk_remaining_;
        continue;
      }
      args_.emplace_back();
    }

    // A bulk arriving in pieces: append what is here. The string grows
    // geometrically with the bytes that actually arrived, never from the
    // declared length, so a huge $len costs nothing until it is sent.
    std::string& arg = args_.back();
    const size_t size = static_cast<size_t>(bulk_len_);
    const size_t take = std::min(size - arg.size(), data.size() - pos);
    arg.append(data.data() + pos, take);
    pos += take;
    buffered_bytes_ += take;
    // The bulk's two trailing bytes stay in the input until both are here.
    if (arg.size() < size || data.size() - pos < 2) break;
    pos += 2;
    bulk_len_ = -1;
    --multibulk_remaining_;
  }

  *consumed = pos;
  if (multibulk_remaining_ > 0) return Status::kNeedMore;
  buffered_bytes_ = 0;  // the request is handed over whole
  return Status::kRequest;
}

RequestParser::Status RequestParser::Fail(std::string message) {
  // Redis's addReplyErrorFormat turns CR and LF into spaces (they can appear
  // as the byte reported in "expected '$', got 'x'").
  std::replace_if(
      message.begin(), message.end(), [](char c) { return c == '\r' || c == '\n'; }, ' ');
  error_ = std::move(message);
  Reset();
  return Status::kError;
}

void RequestParser::Reset() {
  args_.clear();
  multibulk_remaining_ = 0;
  bulk_len_ = -1;
  buffered_bytes_ = 0;
}

}  // namespace tally::protocol
