#include "server/http/rest_handler.h"

#include <spdlog/spdlog.h>

#include <exception>
#include <nlohmann/json.hpp>
#include <optional>
#include <variant>

#include "protocol/reply_writer.h"
#include "server/command_context.h"
#include "server/dispatcher.h"
#include "server/http/access.h"
#include "server/http/request_body.h"
#include "server/http/resp_to_json.h"
#include "server/http/route.h"
#include "server/text.h"

namespace tally::server::http {
namespace {

namespace beast_http = boost::beast::http;
using json = nlohmann::json;

std::string Dump(const json& value) {
  // Values are arbitrary bytes; without base64 encoding, bytes that are not
  // UTF-8 are sent as U+FFFD rather than failing the whole response.
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Beast 1.74 hands out boost::string_view.
std::string_view View(boost::beast::string_view text) { return {text.data(), text.size()}; }

// Runs the commands of one request with one client state, each through
// Dispatch, and converts each reply as soon as it is written.
class CommandRunner {
 public:
  CommandRunner(ServerContext& server, Access access, StringEncoding encoding)
      : server_(server), access_(access), encoding_(encoding), writer_(&resp_) {
    client_.id = server_.next_client_id.fetch_add(1);
    client_.authenticated = true;  // the token stands in for AUTH
  }

  bool close_after_reply() const { return client_.close_after_reply; }

  // One command, its reply as a REST entry.
  RestEntry Run(Command& args) {
    if (access_ == Access::kReadOnly) {
      const CommandSpec* spec = ResolveCommand(args);
      if (spec != nullptr && !ReadOnlyAllows(*spec)) return Error(NoPermissionError(*spec));
    }
    DispatchOne(args);
    RespReplyReader reader(resp_, encoding_);
    RestEntry entry = reader.Next();
    resp_.clear();
    return entry;
  }

  // The commands as one MULTI/EXEC transaction: EXEC's own machinery makes
  // it atomic and isolated. The array of entries, or the error that
  // discarded the transaction before any command ran.
  std::variant<std::vector<RestEntry>, std::string> RunTransaction(std::vector<Command>& commands) {
    Command multi{"multi"};
    DispatchOne(multi);
    resp_.clear();
    std::optional<std::string> refused;
    for (auto& args : commands) {
      const CommandSpec* spec = ResolveCommand(args);
      if (access_ == Access::kReadOnly && spec != nullptr && !ReadOnlyAllows(*spec)) {
        refused = NoPermissionError(*spec);
      } else if (spec != nullptr && (spec->flags & kNotQueued)) {
        // EXEC, DISCARD, MULTI, WATCH ... would end or nest the transaction
        // that this request is.
        refused = "ERR Command not allowed inside a transaction";
      } else {
        DispatchOne(args);
        RestEntry queued = RespReplyReader(resp_, encoding_).Next();
        resp_.clear();
        if (queued.is_error) refused = queued.error;
      }
      if (refused) break;
    }
    Command end{refused ? "discard" : "exec"};
    DispatchOne(end);
    if (refused) {
      resp_.clear();
      // As Redis words an EXEC refused for an earlier error.
      std::string_view why = *refused;
      if (why.starts_with("ERR ")) why.remove_prefix(4);
      return "EXECABORT Transaction discarded because of: " + std::string(why);
    }
    RespReplyReader reader(resp_, encoding_);
    auto count = reader.EnterArray();
    if (!count) {
      RestEntry entry = reader.Next();
      resp_.clear();
      return entry.is_error ? entry.error : "ERR internal error: EXEC sent no array";
    }
    std::vector<RestEntry> entries;
    entries.reserve(*count);
    for (size_t i = 0; i < *count; ++i) entries.push_back(reader.Next());
    resp_.clear();
    return entries;
  }

 private:
  RestEntry Error(std::string text) {
    RestEntry entry;
    entry.is_error = true;
    entry.error = std::move(text);
    return entry;
  }

  void DispatchOne(Command& args) {
    Dispatch(args, client_, writer_, server_);
    // CLIENT REPLY OFF/SKIP cannot apply: every REST command gets its entry.
    // A command that sent no RESP reply (CLIENT REPLY OFF, SHUTDOWN) did what
    // it was asked, so its entry is OK.
    client_.reply_off = client_.reply_skip = client_.reply_skip_next = false;
    if (resp_.empty()) writer_.Ok();
  }

  ServerContext& server_;
  Access access_;
  StringEncoding encoding_;
  ClientState client_;
  std::string resp_;
  protocol::ReplyWriter writer_;
};

RestResponse JsonResponse(unsigned status, const json& body) {
  RestResponse response;
  response.status = status;
  response.body = Dump(body);
  return response;
}

RestResponse SingleCommand(CommandRunner& runner, Command& args, unsigned error_status) {
  RestEntry entry = runner.Run(args);
  return JsonResponse(entry.is_error ? error_status : 200, entry.ToJson());
}

RestResponse CommandList(CommandRunner& runner, std::vector<Command>& commands) {
  json entries = json::array();
  for (auto& args : commands) entries.push_back(runner.Run(args).ToJson());
  return JsonResponse(200, entries);
}

RestResponse Transaction(CommandRunner& runner, std::vector<Command>& commands) {
  auto outcome = runner.RunTransaction(commands);
  if (auto* error = std::get_if<std::string>(&outcome)) return ErrorResponse(400, *error);
  json entries = json::array();
  for (const auto& entry : std::get<std::vector<RestEntry>>(outcome)) {
    entries.push_back(entry.ToJson());
  }
  return JsonResponse(200, entries);
}

Access RequestAccess(const Request& request, ServerContext& server, bool open_allowed) {
  const HttpTokens tokens = HttpTokens::FromConfig(server.config.Snapshot());
  std::vector<std::string_view> presented;
  presented.push_back(BearerToken(View(request[beast_http::field::authorization])));
  auto query_token = QueryToken(View(request.target()));
  if (query_token) presented.push_back(*query_token);
  return Authorize(tokens, presented, open_allowed);
}

RestResponse Handle(const Request& request, ServerContext& server, bool open_allowed) {
  const Access access = RequestAccess(request, server, open_allowed);
  if (access == Access::kDenied) return ErrorResponse(401, "Unauthorized");

  Route route = RouteRequest(request.method(), View(request.target()), request.body());
  const StringEncoding encoding = EqualsNoCase(View(request["Upstash-Encoding"]), "base64")
                                      ? StringEncoding::kBase64
                                      : StringEncoding::kUtf8;
  CommandRunner runner(server, access, encoding);
  RestResponse response;
  switch (route.kind) {
    case Route::Kind::kBadRequest:
      return ErrorResponse(400, route.error);
    case Route::Kind::kMethodNotAllowed:
      response = ErrorResponse(405, "ERR method " + std::string(View(request.method_string())) +
                                        " not allowed here; use " + route.allow);
      response.allow = route.allow;
      return response;
    case Route::Kind::kNotFound:
      // Dispatch names the unknown command exactly as Redis does.
      response = SingleCommand(runner, route.args, 404);
      break;
    case Route::Kind::kPathCommand:
      response = SingleCommand(runner, route.args, 400);
      break;
    case Route::Kind::kCommand: {
      Command args;
      if (auto error = ParseCommandBody(request.body(), &args)) return ErrorResponse(400, *error);
      response = SingleCommand(runner, args, 400);
      break;
    }
    case Route::Kind::kPipeline:
    case Route::Kind::kTransaction: {
      std::vector<Command> commands;
      if (auto error = ParseCommandListBody(request.body(), &commands)) {
        return ErrorResponse(400, *error);
      }
      response = route.kind == Route::Kind::kPipeline ? CommandList(runner, commands)
                                                      : Transaction(runner, commands);
      break;
    }
  }
  response.close = runner.close_after_reply();
  response.ran_commands = true;
  return response;
}

}  // namespace

RestResponse ErrorResponse(unsigned status, std::string_view text) {
  return JsonResponse(status, json{{"error", std::string(text)}});
}

RestResponse HandleRestRequest(const Request& request, ServerContext& server, bool open_allowed) {
  try {
    return Handle(request, server, open_allowed);
  } catch (const std::exception& e) {
    // Commands report their own failures as replies; this is a bug or a
    // resource failure in the front end itself (such as bad_alloc).
    spdlog::error("HTTP request {} {} failed: {}", View(request.method_string()),
                  View(request.target()), e.what());
    return ErrorResponse(500, std::string("ERR internal error: ") + e.what());
  }
}

}  // namespace tally::server::http
