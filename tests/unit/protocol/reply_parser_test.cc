// ReplyParser on every RESP2/RESP3 reply type, on replies split at every
// byte, on pipelines, on what ReplyWriter produces, and on malformed and
// random input (which must end in kNeedMore or kError, never a crash).
#include "protocol/reply_parser.h"

#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <vector>

#include "protocol/reply_writer.h"
#include "tests/unit/numbered.h"

using tally::protocol::Reply;
using tally::protocol::ReplyParser;
using tally::protocol::ReplyParserLimits;
using tally::protocol::ReplyWriter;
using tally::testing::Numbered;
using Status = ReplyParser::Status;
using Type = Reply::Type;
using namespace std::string_literals;

namespace {

// Feeds `input` in chunks of `chunk` bytes (0: all at once), as a socket
// reader would: unconsumed bytes stay at the front of the buffer. Returns the
// replies, and the final status in *last.
std::vector<Reply> ParseAll(const std::string& input, size_t chunk, Status* last,
                            ReplyParserLimits limits = {}) {
  ReplyParser parser(limits);
  std::vector<Reply> replies;
  std::string buffer;
  size_t fed = 0;
  *last = Status::kNeedMore;
  while (true) {
    size_t n = chunk == 0 ? input.size() - fed : std::min(chunk, input.size() - fed);
    buffer.append(input, fed, n);
    fed += n;
    for (;;) {
      size_t consumed = 0;
      *last = parser.Parse(buffer, &consumed);
      REQUIRE(consumed <= buffer.size());
      buffer.erase(0, consumed);
      if (*last == Status::kReply) {
        replies.push_back(std::move(parser.reply()));
        continue;
      }
      if (*last == Status::kError) return replies;
      break;
    }
    if (fed == input.size()) return replies;
  }
}

Reply ParseOne(const std::string& input) {
  Status last;
  auto replies = ParseAll(input, 0, &last);
  REQUIRE(replies.size() == 1);
  return replies[0];
}

// A canonical text form, to compare trees in one CHECK.
std::string Show(const Reply& r) {
  switch (r.type) {
    case Type::kSimple:
      return "+" + r.str;
    case Type::kError:
      return "-" + r.str;
    case Type::kInteger:
      return Numbered(":", r.integer);
    case Type::kBulk:
      return "$" + r.str;
    case Type::kNull:
      return "nil";
    case Type::kDouble:
      return "," + r.str;
    case Type::kBoolean:
      return r.integer ? "#t" : "#f";
    case Type::kBigNumber:
      return "(" + r.str;
    case Type::kArray:
    case Type::kMap: {
      std::string out = r.type == Type::kMap ? "{" : "[";
      for (size_t i = 0; i < r.elements.size(); ++i) {
        if (i > 0) out += ' ';
        out += Show(r.elements[i]);
      }
      return out + (r.type == Type::kMap ? "}" : "]");
    }
  }
  return "?";
}

}  // namespace

TEST_CASE("RESP2 reply types", "[reply_parser]") {
  CHECK(Show(ParseOne("+OK\r\n")) == "+OK");
  CHECK(Show(ParseOne("-ERR wrong\r\n")) == "-ERR wrong");
  CHECK(ParseOne("-WRONGPASS invalid\r\n").IsError());
  CHECK(Show(ParseOne(":-9223372036854775808\r\n")) == ":-9223372036854775808");
  CHECK(Show(ParseOne(":9223372036854775807\r\n")) == ":9223372036854775807");
  CHECK(Show(ParseOne("$0\r\n\r\n")) == "$");
  CHECK(ParseOne("$0\r\n\r\n").type == Type::kBulk);
  CHECK(Show(ParseOne("$-1\r\n")) == "nil");
  CHECK(Show(ParseOne("*-1\r\n")) == "nil");
  CHECK(Show(ParseOne("*0\r\n")) == "[]");
  // Binary-safe: CR, LF and NUL inside a bulk string.
  CHECK(ParseOne("$6\r\na\r\n\0b\n\r\n"s).str == "a\r\n\0b\n"s);
  CHECK(Show(ParseOne("*2\r\n$1\r\n0\r\n*3\r\n$1\r\na\r\n$-1\r\n:5\r\n")) == "[$0 [$a nil :5]]");
}

TEST_CASE("RESP3 reply types", "[reply_parser]") {
  CHECK(Show(ParseOne("_\r\n")) == "nil");
  CHECK(Show(ParseOne(",3.25\r\n")) == ",3.25");
  CHECK(Show(ParseOne(",inf\r\n")) == ",inf");
  CHECK(Show(ParseOne("#t\r\n")) == "#t");
  CHECK(Show(ParseOne("#f\r\n")) == "#f");
  CHECK(Show(ParseOne("(-123456789012345678901234567890\r\n")) ==
        "(-123456789012345678901234567890");
  CHECK(Show(ParseOne("=8\r\ntxt:abcd\r\n")) == "$txt:abcd");
  CHECK(Show(ParseOne("!9\r\nERR x\r\nyz\r\n")) == "-ERR x\r\nyz");
  CHECK(Show(ParseOne("%2\r\n$1\r\na\r\n:1\r\n+b\r\n#t\r\n")) == "{$a :1 +b #t}");
  CHECK(Show(ParseOne("~2\r\n:1\r\n:2\r\n")) == "[:1 :2]");
  CHECK(Show(ParseOne(">2\r\n+message\r\n$2\r\nhi\r\n")) == "[+message $hi]");
  CHECK(Show(ParseOne("%0\r\n")) == "{}");
  // Attributes are dropped, at the top level and inside aggregates.
  CHECK(Show(ParseOne("|1\r\n+ttl\r\n:3\r\n:42\r\n")) == ":42");
  CHECK(Show(ParseOne("*2\r\n|1\r\n+a\r\n+b\r\n:1\r\n|0\r\n:2\r\n")) == "[:1 :2]");
}

TEST_CASE("every split of a pipeline gives the same replies", "[reply_parser]") {
  const std::string input =
      "+OK\r\n$5\r\nhe\r\nl\r\n*3\r\n:1\r\n$-1\r\n*1\r\n%1\r\n+k\r\n,1.5\r\n-ERR x\r\n$0\r\n\r\n"s;
  Status last;
  const auto whole = ParseAll(input, 0, &last);
  REQUIRE(last == Status::kNeedMore);
  REQUIRE(whole.size() == 5);
  CHECK(Show(whole[1]) == "$he\r\nl");
  CHECK(Show(whole[2]) == "[:1 nil [{+k ,1.5}]]");
  for (size_t chunk = 1; chunk <= input.size(); ++chunk) {
    const auto split = ParseAll(input, chunk, &last);
    REQUIRE(last == Status::kNeedMore);
    REQUIRE(split.size() == whole.size());
    for (size_t i = 0; i < whole.size(); ++i) CHECK(Show(split[i]) == Show(whole[i]));
  }
}

TEST_CASE("an incomplete line is left for the next read", "[reply_parser]") {
  ReplyParser parser;
  size_t consumed = 0;
  CHECK(parser.Parse("$1", &consumed) == Status::kNeedMore);
  CHECK(consumed == 0);
  CHECK(parser.Parse("$10\r\nabc", &consumed) == Status::kNeedMore);
  CHECK(consumed == 8);  // the payload bytes are kept inside the parser
  CHECK(parser.Parse("defghij\r", &consumed) == Status::kNeedMore);
  CHECK(consumed == 7);
  CHECK(parser.Parse("\r\n", &consumed) == Status::kReply);
  CHECK(parser.reply().str == "abcdefghij");
}

TEST_CASE("what ReplyWriter writes parses back", "[reply_parser]") {
  for (int protocol : {2, 3}) {
    std::string out;
    ReplyWriter w(&out, protocol);
    w.ArrayHeader(7);
    w.Ok();
    w.Integer(-7);
    w.Bulk("bin\0\r\n"s);
    w.Null();
    w.MapHeader(1);
    w.Bulk("k");
    w.Double(0.5);
    w.Boolean(true);
    w.Error("WRONGTYPE Operation against a key holding the wrong kind of value");
    const std::string expected =
        protocol == 2
            ? "[+OK :-7 $bin\0\r\n nil [$k $0.5] :1 -WRONGTYPE Operation against a key holding "
              "the wrong kind of value]"s
            : "[+OK :-7 $bin\0\r\n nil {$k ,0.5} #t -WRONGTYPE Operation against a key holding "
              "the wrong kind of value]"s;
    CHECK(Show(ParseOne(out)) == expected);
  }
}

TEST_CASE("malformed replies are errors", "[reply_parser]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"?\r\n", "unexpected byte '?' where a reply type was expected"},
      {"\x01\r\n", "unexpected byte 0x01 where a reply type was expected"},
      {"\r\n", "empty line where a reply type was expected"},
      {"+OK\n", "line not terminated by CRLF"},
      {":12a\r\n", "invalid integer"},
      {":\r\n", "invalid integer"},
      {":99999999999999999999\r\n", "invalid integer"},
      {"$-2\r\n", "invalid bulk length"},
      {"$x\r\n", "invalid bulk length"},
      {"$3\r\nabcd\r\n", "bulk string not followed by CRLF"},
      {"*-2\r\n", "invalid aggregate length"},
      {"%-1\r\n", "invalid aggregate length"},
      {"#x\r\n", "invalid boolean"},
      {"_x\r\n", "invalid null"},
      {"(12x\r\n", "invalid big number"},
  };
  for (const auto& [input, message] : cases) {
    INFO(input);
    ReplyParser parser;
    size_t consumed;
    CHECK(parser.Parse(input, &consumed) == Status::kError);
    CHECK(parser.error() == message);
    // The stream stays lost.
    CHECK(parser.Parse("+OK\r\n", &consumed) == Status::kError);
  }
}

TEST_CASE("limits bound what the input can make the parser hold", "[reply_parser]") {
  ReplyParserLimits limits;
  limits.max_bulk_len = 10;
  limits.max_aggregate_len = 3;
  limits.max_line_len = 16;
  limits.max_depth = 3;
  Status last;
  ParseAll("$11\r\n", 0, &last, limits);
  CHECK(last == Status::kError);
  ParseAll("*4\r\n", 0, &last, limits);
  CHECK(last == Status::kError);
  ParseAll("%2\r\n", 0, &last, limits);  // 2 pairs are fine
  CHECK(last == Status::kNeedMore);
  ParseAll("*1\r\n*1\r\n*1\r\n*1\r\n", 0, &last, limits);
  CHECK(last == Status::kError);
  ParseAll("+" + std::string(17, 'a'), 0, &last, limits);  // no CRLF yet, already too long
  CHECK(last == Status::kError);
  ParseAll("+" + std::string(15, 'a') + "\r\n", 0, &last, limits);
  CHECK(last == Status::kNeedMore);
}

TEST_CASE("random input never crashes the parser", "[reply_parser]") {
  // Bytes drawn mostly from RESP's own alphabet, so that deep and partial
  // structures are reached, not only "unexpected byte" errors.
  const std::string alphabet = "+-:$*_,#(=!%~>|0123456789\r\n\r\n\r\nab-";
  std::mt19937 rng(12345);
  ReplyParserLimits limits;
  limits.max_bulk_len = 64;
  for (int round = 0; round < 20000; ++round) {
    std::string input;
    const size_t len = rng() % 40;
    for (size_t i = 0; i < len; ++i) {
      input += rng() % 8 == 0 ? static_cast<char>(rng() % 256) : alphabet[rng() % alphabet.size()];
    }
    Status last;
    ParseAll(input, 1 + rng() % 5, &last, limits);
    CHECK((last == Status::kNeedMore || last == Status::kError));
  }
}
