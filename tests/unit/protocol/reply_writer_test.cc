// ReplyWriter against the bytes redis-server 7.0 sends for each reply type.
#include "protocol/reply_writer.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

using tally::protocol::ReplyWriter;
using namespace std::string_literals;

namespace {

// Runs `write` on a fresh writer for the protocol and returns the bytes.
template <typename F>
std::string Encode(int protocol, F write) {
  std::string out;
  ReplyWriter writer(&out, protocol);
  write(writer);
  return out;
}

// Runs `write` for RESP2 and RESP3 and returns both encodings.
template <typename F>
std::pair<std::string, std::string> Both(F write) {
  return {Encode(2, write), Encode(3, write)};
}

using Pair = std::pair<std::string, std::string>;

}  // namespace

TEST_CASE("replies that are the same in RESP2 and RESP3", "[reply]") {
  CHECK(Both([](ReplyWriter& w) { w.Ok(); }) == Pair{"+OK\r\n", "+OK\r\n"});
  CHECK(Both([](ReplyWriter& w) { w.Simple("PONG"); }) == Pair{"+PONG\r\n", "+PONG\r\n"});
  CHECK(Both([](ReplyWriter& w) { w.Integer(0); }) == Pair{":0\r\n", ":0\r\n"});
  CHECK(Encode(2, [](ReplyWriter& w) { w.Integer(-42); }) == ":-42\r\n");
  CHECK(Encode(2, [](ReplyWriter& w) { w.Integer(std::numeric_limits<int64_t>::max()); }) ==
        ":9223372036854775807\r\n");
  CHECK(Encode(2, [](ReplyWriter& w) { w.Integer(std::numeric_limits<int64_t>::min()); }) ==
        ":-9223372036854775808\r\n");
  CHECK(Both([](ReplyWriter& w) { w.Bulk("hello"); }) ==
        Pair{"$5\r\nhello\r\n", "$5\r\nhello\r\n"});
  CHECK(Encode(3, [](ReplyWriter& w) { w.Bulk(""); }) == "$0\r\n\r\n");
  CHECK(Encode(2, [](ReplyWriter& w) { w.Bulk("a\0\r\nb"s); }) == "$5\r\na\0\r\nb\r\n"s);
  CHECK(Both([](ReplyWriter& w) { w.ArrayHeader(3); }) == Pair{"*3\r\n", "*3\r\n"});
  CHECK(Encode(2, [](ReplyWriter& w) { w.ArrayHeader(0); }) == "*0\r\n");
}

TEST_CASE("errors stay on one line", "[reply]") {
  CHECK(Both([](ReplyWriter& w) { w.Error("ERR syntax error"); }) ==
        Pair{"-ERR syntax error\r\n", "-ERR syntax error\r\n"});
  CHECK(Encode(2, [](ReplyWriter& w) { w.Error("ERR bad\r\nthing\nhere\r"); }) ==
        "-ERR bad  thing here \r\n");
  CHECK(Encode(2, [](ReplyWriter& w) {
          w.Error("WRONGTYPE Operation against a key holding the wrong kind of value");
        }) == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
}

TEST_CASE("RESP3 types and how RESP2 degrades them", "[reply]") {
  CHECK(Both([](ReplyWriter& w) { w.Null(); }) == Pair{"$-1\r\n", "_\r\n"});
  CHECK(Both([](ReplyWriter& w) { w.NullArray(); }) == Pair{"*-1\r\n", "_\r\n"});
  CHECK(Both([](ReplyWriter& w) { w.MapHeader(2); }) == Pair{"*4\r\n", "%2\r\n"});
  CHECK(Both([](ReplyWriter& w) { w.MapHeader(0); }) == Pair{"*0\r\n", "%0\r\n"});
  CHECK(Both([](ReplyWriter& w) { w.SetHeader(3); }) == Pair{"*3\r\n", "~3\r\n"});
  CHECK(Both([](ReplyWriter& w) { w.Boolean(true); }) == Pair{":1\r\n", "#t\r\n"});
  CHECK(Both([](ReplyWriter& w) { w.Boolean(false); }) == Pair{":0\r\n", "#f\r\n"});
  CHECK(Both([](ReplyWriter& w) { w.Verbatim("txt", "Some string"); }) ==
        Pair{"$11\r\nSome string\r\n", "=15\r\ntxt:Some string\r\n"});
  CHECK(Both([](ReplyWriter& w) { w.Verbatim("txt", ""); }) ==
        Pair{"$0\r\n\r\n", "=4\r\ntxt:\r\n"});
  // Like Redis, the format is cut or padded with spaces to three bytes.
  CHECK(Encode(3, [](ReplyWriter& w) { w.Verbatim("markdown", "x"); }) == "=5\r\nmar:x\r\n");
  CHECK(Encode(3, [](ReplyWriter& w) { w.Verbatim("md", "x"); }) == "=5\r\nmd :x\r\n");
}

TEST_CASE("doubles are formatted like %.17g", "[reply]") {
  CHECK(Both([](ReplyWriter& w) { w.Double(1.5); }) == Pair{"$3\r\n1.5\r\n", ",1.5\r\n"});
  CHECK(Both([](ReplyWriter& w) { w.Double(0.1); }) ==
        Pair{"$19\r\n0.10000000000000001\r\n", ",0.10000000000000001\r\n"});
  CHECK(Both([](ReplyWriter& w) { w.Double(INFINITY); }) == Pair{"$3\r\ninf\r\n", ",inf\r\n"});
  CHECK(Both([](ReplyWriter& w) { w.Double(-INFINITY); }) == Pair{"$4\r\n-inf\r\n", ",-inf\r\n"});
  CHECK(Both([](ReplyWriter& w) { w.Double(NAN); }) == Pair{"$3\r\nnan\r\n", ",nan\r\n"});
  CHECK(Encode(3, [](ReplyWriter& w) { w.Double(-NAN); }) == ",nan\r\n");

  // The same text snprintf("%.17g") gives, which is what Redis sends.
  for (double d : {0.0, -0.0, 1.0, -1.0, 3.0, 10.5, 1e20, 1e21, 1e-5, 1e-300, 123456789.125,
                   1.0 / 3.0, 2.5e-10, 9007199254740993.0, std::numeric_limits<double>::max(),
                   std::numeric_limits<double>::min(), std::numeric_limits<double>::denorm_min()}) {
    char expected[64];
    std::snprintf(expected, sizeof(expected), "%.17g", d);
    CAPTURE(d, expected);
    CHECK(Encode(3, [d](ReplyWriter& w) { w.Double(d); }) == ","s + expected + "\r\n");
  }
}

TEST_CASE("replies accumulate in the buffer and the protocol can switch", "[reply]") {
  std::string out = "+PREVIOUS\r\n";
  ReplyWriter writer(&out);
  CHECK(writer.protocol() == 2);
  CHECK(writer.buffer() == &out);
  writer.MapHeader(1);
  writer.Bulk("k");
  writer.Integer(7);
  writer.set_protocol(3);
  CHECK(writer.protocol() == 3);
  writer.MapHeader(1);
  writer.Bulk("k");
  writer.Null();
  CHECK(out == "+PREVIOUS\r\n*2\r\n$1\r\nk\r\n:7\r\n%1\r\n$1\r\nk\r\n_\r\n");
}
