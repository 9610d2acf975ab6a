#include "server/http/http_front_end.h"

#include <spdlog/spdlog.h>

#include <sstream>

#include "server/http/access.h"
#include "server/http/http_session.h"
#include "server/listener.h"

namespace tally::server::http {

namespace asio = boost::asio;
using asio::ip::tcp;

HttpFrontEnd::HttpFrontEnd(const Config& config, ServerContext& server,
                           std::vector<asio::io_context*> contexts, asio::ssl::context* tls,
                           Role role)
    : config_(config), server_(server), contexts_(std::move(contexts)), tls_(tls), role_(role) {}

HttpFrontEnd::~HttpFrontEnd() = default;

std::optional<std::string> HttpFrontEnd::Listen() {
  const bool metrics = role_ == Role::kMetricsOnly;
  const std::string& own_bind = metrics ? config_.metrics_bind : config_.http_bind;
  const std::string& bind = own_bind.empty() ? config_.bind : own_bind;
  const std::string setting = metrics ? "metrics-bind" : "http-bind";
  const int port = metrics ? config_.metrics_port : config_.http_port;
  std::vector<tcp::endpoint> endpoints;
  std::istringstream addresses(bind);
  std::string address;
  while (addresses >> address) {
    boost::system::error_code ec;
    auto ip = asio::ip::make_address(address, ec);
    if (ec) return "invalid " + setting + " address '" + address + "'";
    if (!ip.is_loopback()) loopback_only_ = false;
    endpoints.emplace_back(ip, static_cast<unsigned short>(port));
  }
  if (endpoints.empty()) return "no " + setting + " address configured";
  // Tokens may also be set later with CONFIG SET, but a REST API reachable
  // from other machines must never start open, not even for a moment.
  if (!metrics && !loopback_only_ && HttpTokens::FromConfig(config_).open()) {
    return "refusing to serve the REST API on " + bind +
           " without a token: set http-token (or requirepass), or bind it to a loopback "
           "address with http-bind 127.0.0.1";
  }
  for (const auto& endpoint : endpoints) {
    boost::system::error_code ec;
    auto listener = Listener::Open(contexts_, endpoint, metrics ? "metrics" : "HTTP", &ec);
    if (!listener) {
      return "cannot listen for HTTP on " + endpoint.address().to_string() + ":" +
             std::to_string(endpoint.port()) + ": " + ec.message();
    }
    listeners_.push_back(std::move(listener));
  }
  if (metrics) {
    spdlog::info("Prometheus metrics on {} port {} (GET /metrics)", bind, port);
  } else {
    spdlog::info("REST API (Upstash-compatible) on {} port {}{}", bind, port,
                 tls_ ? " (HTTPS)" : "");
  }
  return std::nullopt;
}

void HttpFrontEnd::Start() {
  for (auto& listener : listeners_) {
    listener->Start([this](tcp::socket socket, size_t context_index) {
      if (stopping_) return;
      auto session = std::make_shared<HttpSession>(
          tls_ ? HttpStream(std::move(socket), *tls_) : HttpStream(std::move(socket)), server_,
          loopback_only_, role_ == Role::kMetricsOnly);
      {
        std::lock_guard lock(sessions_mu_);
        // Drop entries of closed sessions now and then so the list stays small.
        if (sessions_.size() > 64 && sessions_.size() % 64 == 0) {
          std::erase_if(sessions_, [](const auto& weak) { return weak.expired(); });
        }
        sessions_.push_back(session);
      }
      // The session's first operation must start on its own thread.
      asio::post(*contexts_[context_index], [session] { session->Start(); });
    });
  }
}

void HttpFrontEnd::Stop() {
  stopping_ = true;
  for (auto& listener : listeners_) listener->Close();
  std::lock_guard lock(sessions_mu_);
  for (auto& weak : sessions_) {
    if (auto session = weak.lock()) session->Stop();
  }
  sessions_.clear();
}

}  // namespace tally::server::http
