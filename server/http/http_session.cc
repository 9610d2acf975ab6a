#include "server/http/http_session.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <string>

#include "server/metrics.h"
#include "server/post_when_durable.h"

namespace tally::server::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace beast_http = boost::beast::http;

// Clients keep idle connections for a few seconds (undici: 4 s) and close
// them first; a longer server-side limit avoids closing one just as a
// client sends on it, while still reclaiming connections clients abandoned.
constexpr auto kIdleTimeout = std::chrono::seconds(300);
// A request or answer that stalls this long is from a client that is gone.
constexpr auto kTransferTimeout = std::chrono::seconds(60);
// How long a closing connection waits for the client to finish sending.
constexpr auto kLingerTimeout = std::chrono::seconds(2);
constexpr size_t kLingerMaxBytes = 4 * 1024 * 1024;
// Path-style commands carry their arguments in the URL.
constexpr uint32_t kHeaderLimit = 64 * 1024;

bool IsHttpParseError(const boost::system::error_code& error) {
  return error.category() == beast_http::make_error_code(beast_http::error::bad_target).category();
}

// GET /metrics (any query string): Prometheus's scrape. It needs no token,
// so a scraper works whatever protects the REST API; it shows counts and
// sizes, never keys or values.
bool IsMetricsPath(std::string_view target) {
  return target.substr(0, target.find('?')) == "/metrics";
}

RestResponse MetricsResponse(const Request& request, ServerContext& server) {
  if (request.method() != beast_http::verb::get) {
    RestResponse response = ErrorResponse(405, "ERR method not allowed here; use GET");
    response.allow = "GET";
    return response;
  }
  RestResponse response;
  response.body = RenderMetrics(server);
  response.content_type = std::string(kMetricsContentType);
  return response;
}

}  // namespace

HttpSession::HttpSession(HttpStream stream, ServerContext& server, bool open_allowed,
                         bool metrics_only)
    : stream_(std::move(stream)),
      server_(server),
      open_allowed_(open_allowed),
      metrics_only_(metrics_only) {
  boost::system::error_code ec;
  stream_.socket().set_option(asio::ip::tcp::no_delay(true), ec);
}

void HttpSession::Start() {
  stream_.AsyncHandshake(shared_from_this(),
                         [self = shared_from_this()](const boost::system::error_code& error) {
                           if (!error) return self->ReadHeader();
                           spdlog::debug("HTTPS handshake failed: {}", error.message());
                           self->Close();
                         });
}

void HttpSession::Stop() {
  asio::post(stream_.get_executor(), [self = shared_from_this()] {
    self->stopping_ = true;
    if (!self->busy_) return self->Close();
    // A client that does not read its answer must not hold up shutdown.
    self->stream_.transport().expires_after(kLingerTimeout);
  });
}

void HttpSession::ReadHeader() {
  if (stopping_) return Close();
  parser_.emplace();
  parser_->header_limit(kHeaderLimit);
  parser_->body_limit(static_cast<uint64_t>(server_.config.Snapshot().http_max_body_size));
  stream_.transport().expires_after(kIdleTimeout);
  beast_http::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](const boost::system::error_code& error, size_t bytes) {
        self->server_.stats.net_input_bytes.fetch_add(bytes, std::memory_order_relaxed);
        self->OnHeader(error);
      });
}

void HttpSession::OnHeader(const boost::system::error_code& error) {
  if (error) return OnReadError(error);
  if (!beast::iequals(parser_->get()[beast_http::field::expect], "100-continue")) {
    return ReadBody();
  }
  // curl waits for this before sending a body larger than 1 KB.
  static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
  stream_.transport().expires_after(kTransferTimeout);
  asio::async_write(stream_, asio::buffer(kContinue),
                    [self = shared_from_this()](const boost::system::error_code& error, size_t) {
                      if (error) return self->Close();
                      self->ReadBody();
                    });
}

void HttpSession::ReadBody() {
  stream_.transport().expires_after(kTransferTimeout);
  beast_http::async_read(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](const boost::system::error_code& error, size_t bytes) {
        self->server_.stats.net_input_bytes.fetch_add(bytes, std::memory_order_relaxed);
        self->OnBody(error);
      });
}

void HttpSession::OnReadError(const boost::system::error_code& error) {
  if (error == beast_http::error::body_limit) {
    const int64_t limit = server_.config.Snapshot().http_max_body_size;
    linger_after_send_ = true;
    return Send(ErrorResponse(413, "ERR request body too large: the limit is " +
                                       std::to_string(limit) + " bytes (http-max-body-size)"),
                0);
  }
  if (error == beast_http::error::header_limit) {
    linger_after_send_ = true;
    return Send(ErrorResponse(431, "ERR request header too large: the limit is " +
                                       std::to_string(kHeaderLimit) + " bytes"),
                0);
  }
  // A connection closed between requests is the normal end of keep-alive.
  if (IsHttpParseError(error) && error != beast_http::error::end_of_stream &&
      error != beast_http::error::partial_message) {
    linger_after_send_ = true;
    return Send(ErrorResponse(400, "ERR malformed HTTP request: " + error.message()), 0);
  }
  if (error != beast::error::timeout && error != asio::error::operation_aborted &&
      error != beast_http::error::end_of_stream && error != asio::error::eof &&
      error != asio::error::connection_reset) {
    spdlog::debug("HTTP read error: {}", error.message());
  }
  Close();
}

void HttpSession::OnBody(const boost::system::error_code& error) {
  if (error) return OnReadError(error);
  busy_ = true;
  Request request = parser_->release();
  keep_alive_ = request.keep_alive();
  const std::string_view target(request.target().data(), request.target().size());
  if (IsMetricsPath(target)) return Send(MetricsResponse(request, server_), 0);
  if (metrics_only_) return Send(ErrorResponse(404, "ERR this port serves only GET /metrics"), 0);
  RespondWhenDurable(HandleRestRequest(request, server_, open_allowed_));
}

void HttpSession::RespondWhenDurable(RestResponse response) {
  if (!response.ran_commands) return Send(std::move(response), 0);
  storage::WalSyncer& syncer = server_.keyspace.syncer();
  // The answer may reflect any write visible now, this request's or another
  // client's; it is also the sync token, which grows with every write.
  const uint64_t sequence = syncer.VisibleSequence();
  if (syncer.mode() != storage::Durability::kAlways || sequence <= syncer.DurableSequence()) {
    return Send(std::move(response), sequence);
  }
  PostWhenDurable(
      syncer, sequence, stream_.get_executor(),
      [self = shared_from_this(), response = std::move(response), sequence](bool durable) mutable {
        if (durable) return self->Send(std::move(response), sequence);
        // The fsync failed, so these writes might not survive a power loss.
        // Say so instead of acknowledging them; a 5xx is not retried by the
        // clients, which matters for writes such as INCR.
        spdlog::error("HTTP request: answering 500, the WAL sync failed");
        RestResponse failed = ErrorResponse(
            500,
            "ERR the write could not be made durable (WAL sync failed); it may or may not "
            "have been applied");
        failed.close = true;
        self->Send(std::move(failed), 0);
      });
}

void HttpSession::Send(RestResponse response, uint64_t sync_token) {
  busy_ = true;
  response_ = {};
  response_.version(11);
  response_.result(response.status);
  response_.set(beast_http::field::server, "Tally");
  response_.set(beast_http::field::content_type, response.content_type);
  if (response.ran_commands) response_.set("upstash-sync-token", std::to_string(sync_token));
  if (!response.allow.empty()) response_.set(beast_http::field::allow, response.allow);
  if (response.status == 401) response_.set(beast_http::field::www_authenticate, "Bearer");
  if (response.close || linger_after_send_ || stopping_) keep_alive_ = false;
  response_.keep_alive(keep_alive_);
  response_.body() = std::move(response.body);
  response_.prepare_payload();
  stream_.transport().expires_after(stopping_ ? kLingerTimeout : kTransferTimeout);
  beast_http::async_write(
      stream_, response_,
      [self = shared_from_this()](const boost::system::error_code& error, size_t bytes) {
        self->server_.stats.net_output_bytes.fetch_add(bytes, std::memory_order_relaxed);
        self->OnSent(error);
      });
}

void HttpSession::OnSent(const boost::system::error_code& error) {
  busy_ = false;
  response_ = {};
  if (error) return Close();
  if (linger_after_send_) return Linger();
  if (!keep_alive_) return Close();
  ReadHeader();
}

void HttpSession::Linger() {
  boost::system::error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  drain_.resize(16 * 1024);
  // One deadline for the whole drain: it ends within kLingerTimeout.
  stream_.transport().expires_after(kLingerTimeout);
  Drain();
}

void HttpSession::Drain() {
  stream_.async_read_some(
      asio::buffer(drain_),
      [self = shared_from_this()](const boost::system::error_code& error, size_t bytes) {
        self->drained_ += bytes;
        if (error || self->drained_ > kLingerMaxBytes) return self->Close();
        self->Drain();
      });
}

void HttpSession::Close() { stream_.Close(shared_from_this()); }

}  // namespace tally::server::http
