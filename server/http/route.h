// Where a REST request goes, from its method, target and body alone.
//
//   POST <prefix>/            one command, a JSON array in the body
//   POST <prefix>/pipeline    several commands, one reply entry each
//   POST <prefix>/multi-exec  several commands as one transaction
//   GET|POST /incr/key        a path-style command for curl users: the path
//                             segments are the arguments, then the query's
//                             names and values (`/set/k/v?EX=100`), then a
//                             POST body, if any, as the last argument
//
// <prefix> is empty or any path (the base URL of a client may carry one, as
// behind a reverse proxy at /kv): a path whose first segment names a command
// is a path-style command; otherwise a last segment `pipeline` or
// `multi-exec` names that endpoint, and any other path with a JSON array
// posted to it is the single-command endpoint under a prefix. So a prefix
// must not start with a command name.
#pragma once

// Boost 1.74's utility/string_view.hpp uses std::basic_ostream without
// including <ostream>, so it must come first (in its own block).
#include <ostream>

#include <boost/beast/http/verb.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tally::server::http {

struct Route {
  enum class Kind {
    kCommand,           // one command in the JSON body
    kPipeline,          // a JSON array of commands
    kTransaction,       // a JSON array of commands, run atomically
    kPathCommand,       // `args` holds the command
    kNotFound,          // no command or endpoint at this path; `args` holds the
                        // path's words, to name the unknown command in the error
    kMethodNotAllowed,  // `allow` lists the methods the path accepts
    kBadRequest,        // `error` says why
  };
  Kind kind = Kind::kBadRequest;
  std::vector<std::string> args;
  std::string allow;
  std::string error;
};

Route RouteRequest(boost::beast::http::verb method, std::string_view target, std::string_view body);

// The value of the `_token` query parameter, percent-decoded, if present.
std::optional<std::string> QueryToken(std::string_view target);

// %XX-decodes `text`; nullopt on a malformed escape. '+' stays '+': it is
// not a space outside HTML forms, and tokens may contain it.
std::optional<std::string> PercentDecode(std::string_view text);

}  // namespace tally::server::http
