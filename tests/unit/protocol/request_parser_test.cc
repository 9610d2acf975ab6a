// RequestParser against the behaviour of redis-server 7.0 (expected replies
// and error texts were checked on a real server).
#include "protocol/request_parser.h"

#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "tests/unit/numbered.h"

using tally::protocol::ParserLimits;
using tally::protocol::RequestParser;
using tally::protocol::SplitInlineArgs;
using tally::testing::Numbered;
using Args = std::vector<std::string>;
using namespace std::string_literals;  // "..."s keeps embedded NULs

// What buffered_bytes() counts for each argument besides its bytes.
constexpr size_t kArg = sizeof(std::string);

namespace {

// What a connection would see: the requests in order, then an error if any.
struct Outcome {
  std::vector<Args> requests;
  std::string error;
  size_t leftover = 0;  // bytes still unconsumed in the connection's buffer (no error)
  bool operator==(const Outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  os << "{requests:";
  for (const Args& r : o.requests) os << ' ' << Catch::Detail::stringify(r);
  return os << ", error: '" << o.error << "', leftover: " << o.leftover << "}";
}

// Feeds chunks the way a connection does: append to its buffer, parse until
// the parser needs more, drop what was consumed.
Outcome Drive(RequestParser& parser, const std::vector<std::string>& chunks) {
  Outcome out;
  std::string buffer;
  for (const std::string& chunk : chunks) {
    buffer += chunk;
    while (true) {
      size_t used = 0;
      const RequestParser::Status status = parser.Parse(buffer, &used);
      REQUIRE(used <= buffer.size());
      buffer.erase(0, used);
      if (status == RequestParser::Status::kError) {
        // Where parsing stopped is not part of the contract after an error:
        // the connection replies and closes.
        out.error = parser.error();
        return out;
      }
      if (status == RequestParser::Status::kNeedMore) break;
      out.requests.push_back(parser.args());
    }
  }
  out.leftover = buffer.size();
  return out;
}

Outcome ParseAll(const std::string& input, ParserLimits limits = {}) {
  RequestParser parser(limits);
  return Drive(parser, {input});
}

std::string Multibulk(const Args& args) {
  std::string s = Numbered("*", args.size()) + "\r\n";
  for (const std::string& a : args) s += Numbered("$", a.size()) + "\r\n" + a + "\r\n";
  return s;
}

// Inputs covering every state of the parser; each ends in a known outcome.
const std::vector<std::string>& Samples() {
  static const std::vector<std::string> samples = {
      Multibulk({"INCR", "usage:webo-news-overlay"}),
      Multibulk({"SET", "k", ""}),
      Multibulk({"SET", "bin\0key"s, "a\r\nb\0\r\n"s}),
      "*0\r\n*-1\r\n" + Multibulk({"PING"}),
      "PING\r\n",
      "PING\n",
      "\r\n\n   \r\nGET k\r\n",
      "SET k \"a b\\x41\\n\"\r\nGET 'k\\'s'\r\n",
      "*2\r\n$3\r\nGET\r\n$1\r\nkXY" + Multibulk({"DECR", "k"}),  // any two bytes end a bulk
      "*1\rX$4\rXPING\rX",  // header lines end at '\r' plus any byte, as in Redis
      Multibulk({"GET", "a"}) + "INCRBY b 5\r\n" + Multibulk({"GET", "c"}) + "\n",
      "*1\r\n$-1\r\n",
      "*+1\r\n",
      "*1\r\n:4\r\n",
      "*1\r\n$4\r\nPING\r\n*x\r\n",
      "ECHO \"abc\r\n",
      Multibulk({"GET", "a"}) + "*2\r\n$3\r\nGET\r\n$3\r\nab",  // ends mid-request
  };
  return samples;
}

}  // namespace

TEST_CASE("multibulk requests", "[parser]") {
  CHECK(ParseAll(Multibulk({"INCR", "usage:x"})) == Outcome{{{"INCR", "usage:x"}}, "", 0});
  CHECK(ParseAll("*3\r\n$6\r\nINCRBY\r\n$1\r\nk\r\n$2\r\n-5\r\n") ==
        Outcome{{{"INCRBY", "k", "-5"}}, "", 0});
  // Empty bulk strings are arguments.
  CHECK(ParseAll("*2\r\n$3\r\nGET\r\n$0\r\n\r\n") == Outcome{{{"GET", ""}}, "", 0});
  // *0 and negative counts are skipped, and parsing goes on.
  CHECK(ParseAll("*0\r\n*-1\r\n*-5\r\n*1\r\n$4\r\nPING\r\n") == Outcome{{{"PING"}}, "", 0});
  // Redis skips the two bytes after a line's '\r' and after a bulk unchecked.
  CHECK(ParseAll("*1\rX$4\rXPINGXY") == Outcome{{{"PING"}}, "", 0});
}

TEST_CASE("binary-safe arguments", "[parser]") {
  const Args args = {"SET", "k\0ey"s, "\r\n\0\r\n$3\r\n*1"s, std::string(1, '\xff')};
  const Outcome out = ParseAll(Multibulk(args));
  REQUIRE(out.requests.size() == 1);
  CHECK(out.requests[0] == args);
  CHECK(out.requests[0][2].size() == 11);
}

TEST_CASE("inline requests", "[parser]") {
  CHECK(ParseAll("INCR  counter\r\n") == Outcome{{{"INCR", "counter"}}, "", 0});
  CHECK(ParseAll("PING\n") == Outcome{{{"PING"}}, "", 0});
  // Blank and whitespace-only lines are no request.
  CHECK(ParseAll("\r\n\n \t \r\nPING\r\n\n") == Outcome{{{"PING"}}, "", 0});
  // Only one '\r' before the '\n' is stripped; others split arguments.
  CHECK(ParseAll("ECHO a\rb\r\n") == Outcome{{{"ECHO", "a", "b"}}, "", 0});
  // Quoted empty strings are arguments (Redis 7.0 keeps them).
  CHECK(ParseAll("SET k \"\"\r\n") == Outcome{{{"SET", "k", ""}}, "", 0});
  // An incomplete line waits, whole, in the caller's buffer.
  CHECK(ParseAll("GET k") == Outcome{{}, "", 5});
}

TEST_CASE("SplitInlineArgs follows sdssplitargs", "[parser][inline]") {
  auto split = [](std::string_view line) {
    Args out = {"stale"};
    const bool ok = SplitInlineArgs(line, &out);
    return std::make_pair(ok, out);
  };
  using R = std::pair<bool, Args>;
  CHECK(split("") == R{true, {}});
  CHECK(split(" \t\v\f\r\n") == R{true, {}});
  CHECK(split("  GET   key  ") == R{true, {"GET", "key"}});
  // \v and \f separate only between arguments; inside a bare word they stay.
  CHECK(split("\v\fECHO a\vb") == R{true, {"ECHO", "a\vb"}});
  CHECK(split(R"(ECHO "\x41\x4g\q")") == R{true, {"ECHO", "Ax4gq"}});
  CHECK(split(R"("\x00\xfF")") == R{true, {"\0\xff"s}});
  CHECK(split(R"("\n\r\t\b\a\\\"")") == R{true, {"\n\r\t\b\a\\\""}});
  CHECK(split(R"('a\'b')") == R{true, {"a'b"}});
  CHECK(split(R"('a\nb\"')") == R{true, {R"(a\nb\")"}});
  CHECK(split(R"("it's" 'say "hi"')") == R{true, {"it's", "say \"hi\""}});
  CHECK(split(R"(foo"bar baz" x)") == R{true, {"foobar baz", "x"}});
  CHECK(split(R"("" '')") == R{true, {"", ""}});
  CHECK(split("\"a\"\tb") == R{true, {"a", "b"}});
  CHECK(split("\"a\"\vb") == R{true, {"a", "b"}});

  CHECK_FALSE(split(R"(ECHO "abc)").first);
  CHECK_FALSE(split(R"(ECHO 'abc)").first);
  CHECK_FALSE(split(R"(ECHO "a"b)").first);  // closing quote must end the argument
  CHECK_FALSE(split(R"(ECHO 'a'b)").first);
  CHECK_FALSE(split(R"(ECHO "a\)").first);  // a backslash cannot escape the end
  CHECK_FALSE(split(R"(ECHO 'a\')").first);
}

TEST_CASE("protocol errors carry Redis's exact text", "[parser][errors]") {
  const ParserLimits small{.max_bulk_len = 100, .max_multibulk_len = 5, .max_inline_len = 16};
  auto error_of = [&](const std::string& input) { return ParseAll(input, small).error; };

  SECTION("too big inline request") {
    CHECK(error_of(std::string(16, 'P')).empty());  // at the limit: still waiting
    CHECK(error_of(std::string(17, 'P')) == "Protocol error: too big inline request");
    // A long line that has its newline is fine, as in Redis.
    CHECK(ParseAll("ECHO " + std::string(100, 'x') + "\n", small).requests.size() == 1);
  }
  SECTION("unbalanced quotes") {
    CHECK(error_of("ECHO \"abc\r\n") == "Protocol error: unbalanced quotes in request");
    CHECK(error_of("ECHO 'abc\r\n") == "Protocol error: unbalanced quotes in request");
    CHECK(error_of("ECHO \"a\"b\r\n") == "Protocol error: unbalanced quotes in request");
  }
  SECTION("too big mbulk count string") {
    CHECK(error_of("*" + std::string(15, '1')).empty());
    CHECK(error_of("*" + std::string(16, '1')) == "Protocol error: too big mbulk count string");
  }
  SECTION("invalid multibulk length") {
    for (const char* input : {"*x\r\n", "*\r\n", "*+1\r\n", "*01\r\n", "* 1\r\n", "*1 \r\n",
                              "*6\r\n", "*99999999999999999999\r\n"}) {
      CAPTURE(input);
      CHECK(error_of(input) == "Protocol error: invalid multibulk length");
    }
    CHECK(error_of("*5\r\n").empty());  // at the limit
  }
  SECTION("too big bulk count string") {
    // The limit applies before the '$' is even checked.
    CHECK(error_of("*1\r\n" + std::string(16, 'X')).empty());
    CHECK(error_of("*1\r\n" + std::string(17, 'X')) == "Protocol error: too big bulk count string");
    CHECK(error_of("*1\r\n$" + std::string(16, '1')) ==
          "Protocol error: too big bulk count string");
  }
  SECTION("expected '$'") {
    CHECK(error_of("*1\r\n:4\r\n") == "Protocol error: expected '$', got ':'");
    CHECK(error_of("*2\r\n$1\r\na\r\nPING\r\n") == "Protocol error: expected '$', got 'P'");
    // Redis turns a CR or LF in the message into a space.
    CHECK(error_of("*1\r\n\r\n") == "Protocol error: expected '$', got ' '");
    CHECK(error_of("*1\r\n\n\r\n") == "Protocol error: expected '$', got ' '");
  }
  SECTION("invalid bulk length") {
    for (const char* input :
         {"*1\r\n$-1\r\n", "*1\r\n$x\r\n", "*1\r\n$\r\n", "*1\r\n$+4\r\n", "*1\r\n$04\r\n",
          "*1\r\n$ 4\r\n", "*1\r\n$-0\r\n", "*1\r\n$101\r\n", "*1\r\n$9223372036854775808\r\n"}) {
      CAPTURE(input);
      CHECK(error_of(input) == "Protocol error: invalid bulk length");
    }
    CHECK(error_of("*1\r\n$100\r\n").empty());  // at the limit
  }
}

TEST_CASE("default limits are Redis's", "[parser][errors]") {
  // Appended, not "*" + std::string(...): see Numbered() for g++ 12's false -Wrestrict.
  const std::string big_count = std::string("*").append(64 * 1024 - 1, '1');
  CHECK(ParseAll(big_count).error.empty());
  CHECK(ParseAll(big_count + "1").error == "Protocol error: too big mbulk count string");
  CHECK(ParseAll(std::string(64 * 1024 + 1, 'P')).error ==
        "Protocol error: too big inline request");
  CHECK(ParseAll("*1048576\r\n").error.empty());
  CHECK(ParseAll("*1048577\r\n").error == "Protocol error: invalid multibulk length");
  CHECK(ParseAll("*1\r\n$536870912\r\n").error.empty());
  CHECK(ParseAll("*1\r\n$536870913\r\n").error == "Protocol error: invalid bulk length");
}

TEST_CASE("limits can be changed", "[parser]") {
  RequestParser parser;
  parser.set_limits({.max_bulk_len = 3, .max_multibulk_len = 2, .max_inline_len = 8});
  CHECK(Drive(parser, {Multibulk({"GET", "abc"})}).requests.size() == 1);
  CHECK(Drive(parser, {"*1\r\n$4\r\n"}).error == "Protocol error: invalid bulk length");
  RequestParser counts({.max_bulk_len = 3, .max_multibulk_len = 2, .max_inline_len = 8});
  CHECK(Drive(counts, {"*3\r\n"}).error == "Protocol error: invalid multibulk length");
  RequestParser lines({.max_bulk_len = 3, .max_multibulk_len = 2, .max_inline_len = 8});
  CHECK(Drive(lines, {"123456789"}).error == "Protocol error: too big inline request");
}

TEST_CASE("a request split at any byte parses the same", "[parser][split]") {
  for (const std::string& input : Samples()) {
    const Outcome whole = ParseAll(input);
    for (size_t cut = 0; cut <= input.size(); ++cut) {
      CAPTURE(input, cut);
      RequestParser parser;
      CHECK(Drive(parser, {input.substr(0, cut), input.substr(cut)}) == whole);
    }
  }
}

TEST_CASE("one byte at a time parses the same", "[parser][split]") {
  for (const std::string& input : Samples()) {
    CAPTURE(input);
    std::vector<std::string> bytes;
    for (char c : input) bytes.emplace_back(1, c);
    RequestParser parser;
    CHECK(Drive(parser, bytes) == ParseAll(input));
  }
}

TEST_CASE("samples parse to what Redis sees", "[parser]") {
  const std::vector<Outcome> expected = {
      {{{"INCR", "usage:webo-news-overlay"}}, "", 0},
      {{{"SET", "k", ""}}, "", 0},
      {{{"SET", "bin\0key"s, "a\r\nb\0\r\n"s}}, "", 0},
      {{{"PING"}}, "", 0},
      {{{"PING"}}, "", 0},
      {{{"PING"}}, "", 0},
      {{{"GET", "k"}}, "", 0},
      {{{"SET", "k", "a bA\n"}, {"GET", "k's"}}, "", 0},
      {{{"GET", "k"}, {"DECR", "k"}}, "", 0},
      {{{"PING"}}, "", 0},
      {{{"GET", "a"}, {"INCRBY", "b", "5"}, {"GET", "c"}}, "", 0},
      {{}, "Protocol error: invalid bulk length", 0},
      {{}, "Protocol error: invalid multibulk length", 0},
      {{}, "Protocol error: expected '$', got ':'", 0},
      {{{"PING"}}, "Protocol error: invalid multibulk length", 0},
      {{}, "Protocol error: unbalanced quotes in request", 0},
      {{{"GET", "a"}}, "", 0},  // the partial bulk "ab" is already copied out
  };
  REQUIRE(expected.size() == Samples().size());
  for (size_t i = 0; i < expected.size(); ++i) {
    CAPTURE(Samples()[i]);
    CHECK(ParseAll(Samples()[i]) == expected[i]);
  }
}

TEST_CASE("random splits of a long pipeline", "[parser][split]") {
  std::string input;
  std::vector<Args> want;
  for (int i = 0; i < 300; ++i) {
    Args args = {"INCRBY", Numbered("key:", i), std::string(i % 40, static_cast<char>(i % 7))};
    want.push_back(args);
    input += Multibulk(args);
    if (i % 5 == 0) {
      input += Numbered("GET k", i) + "\r\n\r\n";
      want.push_back({"GET", Numbered("k", i)});
    }
  }
  std::mt19937 rng(42);
  for (int round = 0; round < 20; ++round) {
    std::vector<std::string> chunks;
    for (size_t pos = 0; pos < input.size();) {
      const size_t n = std::uniform_int_distribution<size_t>(1, 64)(rng);
      chunks.push_back(input.substr(pos, n));
      pos += n;
    }
    RequestParser parser;
    const Outcome out = Drive(parser, chunks);
    CHECK(out.error.empty());
    CHECK(out.leftover == 0);
    CHECK(out.requests == want);
  }
}

TEST_CASE("10,000 pipelined requests come back one per call", "[parser]") {
  std::string input;
  for (int i = 0; i < 10000; ++i) {
    if (i % 7 == 0) {
      input += Numbered("INCR inline:", i) + "\r\n";
    } else {
      input += Multibulk({"INCRBY", Numbered("key:", i), std::to_string(i)});
    }
  }
  RequestParser parser;
  std::string_view rest = input;
  for (int i = 0; i < 10000; ++i) {
    size_t used = 0;
    REQUIRE(parser.Parse(rest, &used) == RequestParser::Status::kRequest);
    rest.remove_prefix(used);
    if (i % 7 == 0) {
      REQUIRE(parser.args() == Args{"INCR", Numbered("inline:", i)});
    } else {
      REQUIRE(parser.args() == Args{"INCRBY", Numbered("key:", i), std::to_string(i)});
    }
  }
  CHECK(rest.empty());
  size_t used = 1;
  CHECK(parser.Parse(rest, &used) == RequestParser::Status::kNeedMore);
  CHECK(used == 0);
}

TEST_CASE("arguments may be moved out between calls", "[parser]") {
  RequestParser parser;
  const std::string input = Multibulk({"SET", "k", "v"}) + Multibulk({"GET", "k"});
  size_t used = 0;
  REQUIRE(parser.Parse(input, &used) == RequestParser::Status::kRequest);
  Args taken = std::move(parser.args());
  CHECK(taken == Args{"SET", "k", "v"});
  REQUIRE(parser.Parse(std::string_view(input).substr(used), &used) ==
          RequestParser::Status::kRequest);
  CHECK(parser.args() == Args{"GET", "k"});
}

TEST_CASE("a huge declared bulk costs only what arrived", "[parser][memory]") {
  RequestParser parser;
  size_t used = 0;
  std::string head = "*2\r\n$3\r\nSET\r\n$536870912\r\nabc";
  REQUIRE(parser.Parse(head, &used) == RequestParser::Status::kNeedMore);
  CHECK(used == head.size());                      // the partial bulk is copied out of the input
  CHECK(parser.buffered_bytes() == 6 + 2 * kArg);  // "SET" + "abc"
  CHECK(parser.args().back().capacity() < 1024);

  // More pieces: memory follows the bytes received, within a factor of two.
  const std::string piece(64 * 1024, 'x');
  size_t received = 3;
  for (int i = 0; i < 16; ++i) {
    REQUIRE(parser.Parse(piece, &used) == RequestParser::Status::kNeedMore);
    CHECK(used == piece.size());
    received += piece.size();
  }
  CHECK(parser.buffered_bytes() == 3 + received + 2 * kArg);
  CHECK(parser.args().back().size() == received);
  CHECK(parser.args().back().capacity() <= 2 * received);
}

TEST_CASE("a bulk arriving in pieces is reassembled exactly", "[parser][memory]") {
  std::string value;
  for (int i = 0; i < 300000; ++i) value.push_back(static_cast<char>(i * 31 % 256));
  const std::string input = Multibulk({"SET", "k", value}) + Multibulk({"GET", "k"});
  std::vector<std::string> chunks;
  for (size_t pos = 0; pos < input.size(); pos += 16 * 1024)
    chunks.push_back(input.substr(pos, 16 * 1024));
  RequestParser parser;
  const Outcome out = Drive(parser, chunks);
  REQUIRE(out.requests.size() == 2);
  CHECK(out.requests[0] == Args{"SET", "k", value});
  CHECK(out.requests[1] == Args{"GET", "k"});
  CHECK(parser.buffered_bytes() == 0);
}

TEST_CASE("buffered_bytes counts arguments held for an incomplete request", "[parser]") {
  RequestParser parser;
  size_t used = 0;
  CHECK(parser.Parse("GET k", &used) == RequestParser::Status::kNeedMore);
  CHECK(parser.buffered_bytes() == 0);  // an inline line stays in the caller's buffer
  CHECK(used == 0);
  CHECK(parser.Parse("*3\r\n$3\r\nSET\r\n$5\r\nkey", &used) == RequestParser::Status::kNeedMore);
  CHECK(parser.buffered_bytes() == 6 + 2 * kArg);
  CHECK(parser.Parse("12\r\n$1\r", &used) == RequestParser::Status::kNeedMore);
  CHECK(used == 4);  // the incomplete "$1\r" header stays in the input
  CHECK(parser.buffered_bytes() == 8 + 2 * kArg);
  CHECK(parser.Parse("$1\r\nv\r\n", &used) == RequestParser::Status::kRequest);
  CHECK(parser.args() == Args{"SET", "key12", "v"});
  CHECK(parser.buffered_bytes() == 0);
}

TEST_CASE("many empty arguments count towards buffered_bytes", "[parser][memory]") {
  RequestParser parser;
  size_t used = 0;
  std::string input = "*1000\r\n";
  for (int i = 0; i < 999; ++i) input += "$0\r\n\r\n";
  REQUIRE(parser.Parse(input, &used) == RequestParser::Status::kNeedMore);
  CHECK(parser.buffered_bytes() == 999 * kArg);
}

TEST_CASE("a client that has not authenticated gets Redis's tight limits", "[parser][errors]") {
  ParserLimits limits;
  limits.authenticated = false;
  CHECK(ParseAll("*10\r\n", limits).error.empty());
  CHECK(ParseAll("*11\r\n", limits).error == "Protocol error: unauthenticated multibulk length");
  CHECK(ParseAll("*1\r\n$16384\r\n", limits).error.empty());
  CHECK(ParseAll("*1\r\n$16385\r\n", limits).error ==
        "Protocol error: unauthenticated bulk length");
  // The general limits are checked first, as in Redis.
  CHECK(ParseAll("*1\r\n$536870913\r\n", limits).error == "Protocol error: invalid bulk length");
  CHECK(ParseAll("*1048577\r\n", limits).error == "Protocol error: invalid multibulk length");
  // Once authenticated (the connection updates the limits), the usual ones apply.
  RequestParser parser(limits);
  CHECK(Drive(parser, {Multibulk({"AUTH", "pw"})}).requests.size() == 1);
  limits.authenticated = true;
  parser.set_limits(limits);
  CHECK(Drive(parser, {Multibulk(Args(11, "x"))}).requests.size() == 1);
  CHECK(Drive(parser, {Multibulk({"SET", "k", std::string(20000, 'v')})}).requests.size() == 1);
}
