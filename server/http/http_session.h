// One HTTP/1.1 connection to the REST front end, on one io_context (one
// thread), owned by the shared_ptr its pending operation holds, like the RESP
// Connection. Requests on a keep-alive connection are answered one at a
// time, in order: read a request, run it (rest_handler.h), wait until the
// writes its answer reflects are durable, send the answer, read the next.
#pragma once

// Boost 1.74's asio/awaitable.hpp uses std::exchange without including
// <utility>, so it must come first (in its own block, which clang-format keeps).
#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "server/http/rest_handler.h"
#include "server/server_context.h"

namespace tally::server::http {

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  // `open_allowed`: see HandleRestRequest. `metrics_only`: the session
  // answers GET /metrics and nothing else (the metrics-port listener).
  HttpSession(boost::asio::ip::tcp::socket socket, ServerContext& server, bool open_allowed,
              bool metrics_only = false);

  void Start();
  // Stops reading; the connection closes once the answer in progress, if
  // any, is sent. Safe to call from any thread.
  void Stop();

 private:
  void ReadHeader();
  void OnHeader(const boost::system::error_code& error);
  void ReadBody();
  void OnBody(const boost::system::error_code& error);
  // A request that could not be read: answers with `status` if the error is
  // the client's (too large, malformed), else just closes.
  void OnReadError(const boost::system::error_code& error);
  // Sends `response` once every write it may reflect is durable.
  void RespondWhenDurable(RestResponse response);
  void Send(RestResponse response, uint64_t sync_token);
  void OnSent(const boost::system::error_code& error);
  // After an answer to a request whose body was not read: stop sending, read
  // and drop what the client still sends for a moment, then close, so the
  // client sees the answer rather than a connection reset.
  void Linger();
  void Drain();
  void Close();

  boost::beast::tcp_stream stream_;
  ServerContext& server_;
  const bool open_allowed_;
  const bool metrics_only_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  boost::beast::http::response<boost::beast::http::string_body> response_;
  std::vector<char> drain_;
  size_t drained_ = 0;
  bool keep_alive_ = true;
  bool linger_after_send_ = false;
  bool busy_ = false;  // a request is running or its answer is on its way
  bool stopping_ = false;
};

}  // namespace tally::server::http
