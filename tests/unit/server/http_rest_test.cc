// The pure parts of the REST front end: RESP reply -> JSON, request bodies,
// routing and tokens. The whole front end runs against the real clients in
// tests/rest/.
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "protocol/reply_writer.h"
#include "server/http/access.h"
#include "server/http/request_body.h"
#include "server/http/resp_to_json.h"
#include "server/http/route.h"

using namespace tally::server;
using namespace tally::server::http;
using json = nlohmann::json;
using boost::beast::http::verb;

namespace {

// The entries of every reply in `resp`, as the JSON text clients receive.
std::string Entries(const std::string& resp, StringEncoding encoding = StringEncoding::kUtf8) {
  RespReplyReader reader(resp, encoding);
  json entries = json::array();
  while (!reader.AtEnd()) entries.push_back(reader.Next().ToJson());
  return entries.dump();
}

}  // namespace

TEST_CASE("RESP2 replies become Upstash's JSON values", "[http]") {
  std::string resp;
  tally::protocol::ReplyWriter w(&resp);
  w.Integer(-42);
  w.Ok();
  w.Bulk("hello");
  w.Null();
  w.NullArray();
  w.ArrayHeader(3);
  w.Bulk("0");
  w.ArrayHeader(2);
  w.Bulk("a");
  w.Bulk("b");
  w.Integer(7);
  w.Error("ERR value is not an integer or out of range");
  w.ArrayHeader(0);
  w.Double(1.5);
  CHECK(Entries(resp) ==
        R"([{"result":-42},{"result":"OK"},{"result":"hello"},{"result":null},{"result":null},)"
        R"({"result":["0",["a","b"],7]},{"error":"ERR value is not an integer or out of range"},)"
        R"({"result":[]},{"result":"1.5"}])");
}

TEST_CASE("RESP3 replies map to the same JSON shapes, never to booleans or objects", "[http]") {
  std::string resp;
  tally::protocol::ReplyWriter w(&resp, 3);
  w.Null();
  w.Boolean(true);
  w.Boolean(false);
  w.MapHeader(1);
  w.Bulk("server");
  w.Bulk("tally");
  w.SetHeader(1);
  w.Integer(1);
  w.Double(0.5);
  w.Verbatim("txt", "line\r\n");
  CHECK(Entries(resp) ==
        R"([{"result":null},{"result":1},{"result":0},{"result":["server","tally"]},)"
        R"({"result":[1]},{"result":"0.5"},{"result":"line\r\n"}])");
  // Blob errors, big numbers and attributes, which Tally does not write today.
  CHECK(Entries("!9\r\nERR oops!\r\n(123456789012345678901234567890\r\n|1\r\n+a\r\n+b\r\n:5\r\n") ==
        R"([{"error":"ERR oops!"},{"result":"123456789012345678901234567890"},{"result":5}])");
}

TEST_CASE("base64 encodes every string at every depth, but not errors", "[http]") {
  std::string resp = "+OK\r\n$5\r\nhello\r\n*2\r\n$1\r\n0\r\n*1\r\n$3\r\nkey\r\n:3\r\n$-1\r\n";
  resp += "-ERR no\r\n*1\r\n-ERR inside\r\n$0\r\n\r\n";
  CHECK(Entries(resp, StringEncoding::kBase64) ==
        R"([{"result":"T0s="},{"result":"aGVsbG8="},{"result":["MA==",["a2V5"]]},{"result":3},)"
        R"({"result":null},{"error":"ERR no"},{"result":["RVJSIGluc2lkZQ=="]},{"result":""}])");
  CHECK(Base64Encode("") == "");
  CHECK(Base64Encode("f") == "Zg==");
  CHECK(Base64Encode("fo") == "Zm8=");
  CHECK(Base64Encode("foo") == "Zm9v");
  CHECK(Base64Encode(std::string("\0\xff\xfe", 3)) == "AP/+");
}

TEST_CASE("binary and non-UTF-8 bulk strings survive conversion", "[http]") {
  const std::string value("a\0b\r\n\xc3\xa9\xf0\x9f\x98\x80", 11);
  std::string resp;
  tally::protocol::ReplyWriter(&resp).Bulk(value);
  CHECK(RespReplyReader(resp, StringEncoding::kUtf8).Next().result.get<std::string>() == value);
  CHECK(RespReplyReader(resp, StringEncoding::kBase64).Next().result.get<std::string>() ==
        Base64Encode(value));
  // Invalid UTF-8 cannot be JSON text: it is replaced when dumped.
  json entry = RespReplyReader("$2\r\n\xff\xfe\r\n", StringEncoding::kUtf8).Next().ToJson();
  CHECK(entry.dump(-1, ' ', false, json::error_handler_t::replace) ==
        "{\"result\":\"\xef\xbf\xbd\xef\xbf\xbd\"}");
}

TEST_CASE("malformed or truncated RESP becomes an error and ends the input", "[http]") {
  for (std::string bad : {"$5\r\nab\r\n", "*2\r\n:1\r\n", ":12x\r\n", "?\r\n", "+no end",
                          "*99999999\r\n:1\r\n", "$-2\r\n", "=3\r\nabc\r\n", "#x\r\n"}) {
    INFO(bad);
    RespReplyReader reader(bad, StringEncoding::kUtf8);
    RestEntry entry = reader.Next();
    CHECK(entry.is_error);
    CHECK(entry.error.starts_with("ERR internal error: malformed reply"));
    CHECK(reader.AtEnd());
  }
  // Nesting deeper than any reply Tally writes.
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "*1\r\n";
  deep += ":1\r\n";
  CHECK(RespReplyReader(deep, StringEncoding::kUtf8).Next().is_error);
}

TEST_CASE("EnterArray splits EXEC's reply into entries", "[http]") {
  RespReplyReader reader("*3\r\n:1\r\n-ERR bad\r\n+OK\r\n", StringEncoding::kUtf8);
  REQUIRE(reader.EnterArray() == 3u);
  CHECK(reader.Next().ToJson().dump() == R"({"result":1})");
  CHECK(reader.Next().ToJson().dump() == R"({"error":"ERR bad"})");
  CHECK(reader.Next().ToJson().dump() == R"({"result":"OK"})");
  CHECK(reader.AtEnd());
  RespReplyReader not_array("-EXECABORT no\r\n", StringEncoding::kUtf8);
  CHECK_FALSE(not_array.EnterArray().has_value());
  CHECK(not_array.Next().error == "EXECABORT no");
}

TEST_CASE("a command body keeps numbers as the client wrote them", "[http]") {
  Command command;
  REQUIRE_FALSE(ParseCommandBody(
      R"([ "set", "k", 5, -3, 0.1, 1e+21, 18446744073709551615, 123456789012345678901234, true, false, null, "\u00e9\u0000" ])",
      &command));
  CHECK(command == Command{"set", "k", "5", "-3", "0.1", "1e+21", "18446744073709551615",
                           "123456789012345678901234", "true", "false", "null",
                           std::string("\xc3\xa9\0", 3)});
}

TEST_CASE("bad command bodies get clear errors", "[http]") {
  Command command;
  auto error = [&](std::string_view body) { return ParseCommandBody(body, &command).value_or(""); };
  CHECK(error("").starts_with("ERR invalid JSON in request body: "));
  CHECK(error("[\"incr\",").starts_with("ERR invalid JSON in request body: "));
  CHECK(error("[\"incr\"] x").starts_with("ERR invalid JSON in request body: "));
  CHECK(error("{\"cmd\":\"incr\"}").starts_with("ERR the request body must be a JSON array"));
  CHECK(error("\"incr\"").starts_with("ERR the request body must be a JSON array"));
  CHECK(error("[]") == "ERR empty command");
  CHECK(error("[\"set\",\"k\",{\"a\":1}]") ==
        "ERR command arguments must be JSON strings, numbers, booleans or null");
  CHECK(error("[[\"incr\",\"a\"]]") ==
        "ERR command arguments must be JSON strings, numbers, booleans or null");
}

TEST_CASE("a pipeline body is an array of commands", "[http]") {
  std::vector<Command> commands;
  REQUIRE_FALSE(ParseCommandListBody(R"([["incr","a"],["incrby","a",5],["get","a"]])", &commands));
  CHECK(commands == std::vector<Command>{{"incr", "a"}, {"incrby", "a", "5"}, {"get", "a"}});
  auto error = [&](std::string_view body) {
    return ParseCommandListBody(body, &commands).value_or("");
  };
  CHECK(error("[]") == "ERR empty command list: send at least one command");
  CHECK(error("[[\"incr\",\"a\"],[]]") == "ERR empty command at index 1 of the command list");
  CHECK(error("[\"incr\",\"a\"]")
            .starts_with("ERR the request body must be a JSON array of commands"));
  CHECK(error("[[[\"x\"]]]") ==
        "ERR command arguments must be JSON strings, numbers, booleans or null");
  CHECK(error("[[\"incr\"").starts_with("ERR invalid JSON in request body: "));
}

TEST_CASE("routes: endpoints, prefixes and path-style commands", "[http]") {
  auto route = [](verb method, std::string_view target, std::string_view body = "") {
    return RouteRequest(method, target, body);
  };
  CHECK(route(verb::post, "/", "[\"incr\",\"a\"]").kind == Route::Kind::kCommand);
  CHECK(route(verb::post, "/kv", "[\"incr\",\"a\"]").kind == Route::Kind::kCommand);
  CHECK(route(verb::post, "/kv/", " [\"incr\",\"a\"]").kind == Route::Kind::kCommand);
  CHECK(route(verb::post, "/pipeline", "[]").kind == Route::Kind::kPipeline);
  CHECK(route(verb::post, "/api/kv/pipeline/", "[]").kind == Route::Kind::kPipeline);
  CHECK(route(verb::post, "/multi-exec").kind == Route::Kind::kTransaction);
  CHECK(route(verb::post, "/kv/multi-exec?_token=x").kind == Route::Kind::kTransaction);

  Route r = route(verb::get, "/set/my%20key/v%2Fw?EX=100&_token=secret&NX");
  CHECK(r.kind == Route::Kind::kPathCommand);
  CHECK(r.args == std::vector<std::string>{"set", "my key", "v/w", "EX", "100", "NX"});
  r = route(verb::post, "/SET/k", "body value");
  CHECK(r.args == std::vector<std::string>{"SET", "k", "body value"});
  // A key named like an endpoint stays a key.
  r = route(verb::get, "/get/pipeline");
  CHECK(r.kind == Route::Kind::kPathCommand);
  CHECK(r.args == std::vector<std::string>{"get", "pipeline"});

  r = route(verb::get, "/nosuch/arg");
  CHECK(r.kind == Route::Kind::kNotFound);
  CHECK(r.args == std::vector<std::string>{"nosuch", "arg"});
  CHECK(route(verb::post, "/nosuch", "plain text").kind == Route::Kind::kNotFound);

  CHECK(route(verb::get, "/").kind == Route::Kind::kMethodNotAllowed);
  CHECK(route(verb::get, "/").allow == "POST");
  CHECK(route(verb::get, "/pipeline").kind == Route::Kind::kMethodNotAllowed);
  CHECK(route(verb::delete_, "/incr/a").allow == "GET, POST");
  CHECK(route(verb::get, "/incr/%zz").kind == Route::Kind::kBadRequest);
  CHECK(route(verb::get, "/incr/a%2").kind == Route::Kind::kBadRequest);
}

TEST_CASE("query tokens and percent-decoding", "[http]") {
  CHECK(QueryToken("/incr/a?_token=a%2Bb+c") == "a+b+c");
  CHECK(QueryToken("/incr/a?x=1&_token=t") == "t");
  CHECK_FALSE(QueryToken("/incr/a").has_value());
  CHECK(PercentDecode("%41%62c+") == "Abc+");
  CHECK_FALSE(PercentDecode("%4").has_value());
  CHECK_FALSE(PercentDecode("%g1").has_value());
}

TEST_CASE("tokens: full, read-only, requirepass fallback, open only on loopback", "[http]") {
  CHECK(SplitTokenList(" a,b  c,,d ") == std::vector<std::string>{"a", "b", "c", "d"});
  CHECK(BearerToken("Bearer abc") == "abc");
  CHECK(BearerToken("bearer  abc ") == "abc");
  CHECK(BearerToken("Basic abc") == "");
  CHECK(BearerToken("Bearer ") == "");

  Config config;
  config.http_token = "one, two";
  config.http_readonly_token = "ro";
  HttpTokens tokens = HttpTokens::FromConfig(config);
  CHECK(Authorize(tokens, {"two"}, false) == Access::kFull);
  CHECK(Authorize(tokens, {"ro"}, false) == Access::kReadOnly);
  CHECK(Authorize(tokens, {"ro", "one"}, false) == Access::kFull);
  CHECK(Authorize(tokens, {"undefined"}, true) == Access::kDenied);
  CHECK(Authorize(tokens, {"", "on"}, true) == Access::kDenied);

  config.http_token.clear();
  config.requirepass = "pass";
  tokens = HttpTokens::FromConfig(config);
  CHECK(Authorize(tokens, {"pass"}, false) == Access::kFull);
  CHECK(Authorize(tokens, {"one"}, false) == Access::kDenied);

  HttpTokens none = HttpTokens::FromConfig(Config());
  CHECK(none.open());
  CHECK(Authorize(none, {}, true) == Access::kFull);
  CHECK(Authorize(none, {"anything"}, false) == Access::kDenied);
}

TEST_CASE("read-only tokens may run only commands that change nothing", "[http]") {
  auto allowed = [](std::vector<std::string> args) {
    const CommandSpec* spec = ResolveCommand(args);
    REQUIRE(spec != nullptr);
    return ReadOnlyAllows(*spec);
  };
  CHECK(allowed({"get", "k"}));
  CHECK(allowed({"mget", "a", "b"}));
  CHECK(allowed({"scan", "0"}));
  CHECK(allowed({"ping"}));
  CHECK(allowed({"ttl", "k"}));
  CHECK_FALSE(allowed({"incr", "k"}));
  CHECK_FALSE(allowed({"set", "k", "v"}));
  CHECK_FALSE(allowed({"flushall"}));
  CHECK_FALSE(allowed({"config", "set", "requirepass", "x"}));
  CHECK(allowed({"config", "help"}));
  CHECK_FALSE(allowed({"shutdown"}));
  CHECK_FALSE(allowed({"multi"}));
  CHECK(ResolveCommand({"nosuch"}) == nullptr);
  CHECK(ResolveCommand({"config", "nosuch"}) == nullptr);
  CHECK(NoPermissionError(*ResolveCommand({"config", "set", "a", "b"})) ==
        "NOPERM this user has no permissions to run the 'config|set' command");
}
