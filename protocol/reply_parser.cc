// A reply is a tree (arrays of arrays of bulk strings, ...), so the parser
// keeps a stack of the aggregates still open instead of recursing: a line is
// parsed once, as soon as it is complete, and nesting depth is bounded by
// ReplyParserLimits::max_depth, whatever the input says.
#include "protocol/reply_parser.h"

#include <algorithm>
#include <charconv>
#include <utility>

namespace tally::protocol {
namespace {

// A whole-string signed 64-bit decimal ('+' allowed, as RESP3 permits).
bool ParseInteger(std::string_view s, int64_t* out) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

std::string Printable(char c) {
  static const char kHex[] = "0123456789abcdef";
  if (c >= 0x20 && c < 0x7f) return std::string("'") + c + "'";
  auto u = static_cast<unsigned char>(c);
  return std::string("0x") + kHex[u >> 4] + kHex[u & 15];
}

Reply Leaf(Reply::Type type, std::string_view str = {}, int64_t integer = 0) {
  Reply r;
  r.type = type;
  r.str = std::string(str);
  r.integer = integer;
  return r;
}

}  // namespace

ReplyParser::Status ReplyParser::Fail(std::string message) {
  error_ = std::move(message);
  return Status::kError;
}

bool ReplyParser::Finish(Reply element) {
  for (;;) {
    if (stack_.empty()) {
      reply_ = std::move(element);
      return true;
    }
    Frame& top = stack_.back();
    top.aggregate.elements.push_back(std::move(element));
    if (--top.remaining > 0) return false;
    Frame done = std::move(top);
    stack_.pop_back();
    // An attribute annotates the reply that follows it; nobody here uses
    // attributes, so it is dropped and counts as no element of its parent.
    if (done.attribute) return false;
    element = std::move(done.aggregate);
  }
}

ReplyParser::Status ReplyParser::ParseLine(std::string_view line) {
  if (line.empty()) return Fail("empty line where a reply type was expected");
  const char type = line[0];
  const std::string_view body = line.substr(1);
  auto finish = [&](Reply r) { return Finish(std::move(r)) ? Status::kReply : Status::kNeedMore; };
  switch (type) {
    case '+':
      return finish(Leaf(Reply::Type::kSimple, body));
    case '-':
      return finish(Leaf(Reply::Type::kError, body));
    case ':': {
      int64_t n;
      if (!ParseInteger(body, &n)) return Fail("invalid integer");
      return finish(Leaf(Reply::Type::kInteger, {}, n));
    }
    case '_':
      if (!body.empty()) return Fail("invalid null");
      return finish(Leaf(Reply::Type::kNull));
    case ',':
      if (body.empty()) return Fail("invalid double");
      return finish(Leaf(Reply::Type::kDouble, body));
    case '#':
      if (body != "t" && body != "f") return Fail("invalid boolean");
      return finish(Leaf(Reply::Type::kBoolean, {}, body == "t" ? 1 : 0));
    case '(': {
      std::string_view digits = body;
      if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) digits.remove_prefix(1);
      if (digits.empty() ||
          !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return Fail("invalid big number");
      }
      return finish(Leaf(Reply::Type::kBigNumber, body));
    }
    case '$':
    case '=':
    case '!': {
      int64_t len;
      if (!ParseInteger(body, &len)) return Fail("invalid bulk length");
      if (len == -1 && type == '$') return finish(Leaf(Reply::Type::kNull));
      if (len < 0 || len > limits_.max_bulk_len) return Fail("invalid bulk length");
      bulk_len_ = len;
      bulk_type_ = type == '!' ? Reply::Type::kError : Reply::Type::kBulk;
      bulk_.clear();
      return Status::kNeedMore;
    }
    case '*':
    case '~':
    case '>':
    case '%':
    case '|': {
      int64_t len;
      if (!ParseInteger(body, &len)) return Fail("invalid aggregate length");
      if (len == -1 && type == '*') return finish(Leaf(Reply::Type::kNull));
      if (len < 0 || len > limits_.max_aggregate_len) return Fail("invalid aggregate length");
      if (stack_.size() >= limits_.max_depth) return Fail("replies nested too deeply");
      const bool pairs = type == '%' || type == '|';
      const int64_t elements = pairs ? 2 * len : len;
      Reply aggregate = Leaf(type == '%' ? Reply::Type::kMap : Reply::Type::kArray);
      if (elements == 0) return type == '|' ? Status::kNeedMore : finish(std::move(aggregate));
      // Reserve by what is likely, not by what the input claims.
      aggregate.elements.reserve(static_cast<size_t>(std::min<int64_t>(elements, 1024)));
      stack_.push_back(Frame{std::move(aggregate), elements, type == '|'});
      return Status::kNeedMore;
    }
    default:
      return Fail("unexpected byte " + Printable(type) + " where a reply type was expected");
  }
}

ReplyParser::Status ReplyParser::Parse(std::string_view data, size_t* consumed) {
  *consumed = 0;
  if (!error_.empty()) return Status::kError;  // the stream is lost for good
  for (;;) {
    if (bulk_len_ >= 0) {
      const size_t want = static_cast<size_t>(bulk_len_) - bulk_.size();
      const size_t take = std::min(want, data.size() - *consumed);
      bulk_.append(data.substr(*consumed, take));
      *consumed += take;
      if (bulk_.size() < static_cast<size_t>(bulk_len_)) return Status::kNeedMore;
      if (data.size() - *consumed < 2) return Status::kNeedMore;
      if (data[*consumed] != '\r' || data[*consumed + 1] != '\n') {
        return Fail("bulk string not followed by CRLF");
      }
      *consumed += 2;
      Reply r = Leaf(bulk_type_);
      r.str = std::move(bulk_);
      bulk_ = std::string();
      bulk_len_ = -1;
      if (Finish(std::move(r))) return Status::kReply;
      continue;
    }
    const std::string_view rest = data.substr(*consumed);
    const size_t lf = rest.find('\n');
    if (lf == std::string_view::npos) {
      if (rest.size() > limits_.max_line_len) return Fail("line too long");
      return Status::kNeedMore;
    }
    if (lf == 0 || rest[lf - 1] != '\r') return Fail("line not terminated by CRLF");
    if (lf - 1 > limits_.max_line_len) return Fail("line too long");
    *consumed += lf + 1;
    const Status status = ParseLine(rest.substr(0, lf - 1));
    if (status != Status::kNeedMore) return status;
  }
}

}  // namespace tally::protocol
