// Answers one Upstash REST request: checks the token, routes it (route.h),
// runs its commands through Dispatch, exactly as RESP connections do, and
// turns each RESP reply into the JSON entry the clients expect
// (resp_to_json.h). No networking here: the session sends the result once the
// writes it reflects are durable.
//
// Every request runs with a fresh client state: REST is stateless, so what a
// command changes about "its connection" (SELECT, CLIENT SETNAME, MULTI
// without EXEC) lasts until the end of that request only.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string>

#include "server/server_context.h"

namespace tally::server::http {

using Request = boost::beast::http::request<boost::beast::http::string_body>;

struct RestResponse {
  unsigned status = 200;
  std::string body;  // JSON text, unless content_type says otherwise
  std::string content_type = "application/json";
  std::string allow;  // the Allow header of a 405
  // QUIT or SHUTDOWN ran: close the connection after this response.
  bool close = false;
  // Commands ran, so the answer may reflect writes: it waits for them to be
  // durable and carries an upstash-sync-token.
  bool ran_commands = false;
};

// `open_allowed`: the front end listens on loopback only, so it may run
// without any token configured (access.h).
RestResponse HandleRestRequest(const Request& request, ServerContext& server, bool open_allowed);

// {"error": text} with the given status, for errors found outside the
// handler (a body over the size limit, a malformed HTTP request).
RestResponse ErrorResponse(unsigned status, std::string_view text);

}  // namespace tally::server::http
