#include "server/server.h"

#include <spdlog/spdlog.h>

#include <sstream>

#include "server/connection.h"
#include "server/http/http_front_end.h"
#include "server/listener.h"
#include "server/logging.h"
#include "server/tls_context.h"

namespace tally::server {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

size_t ThreadCount(int configured) {
  if (configured > 0) return static_cast<size_t>(configured);
  unsigned cores = std::thread::hardware_concurrency();
  return cores == 0 ? 1 : cores;
}

// Over maxclients a new connection gets Redis's error and is closed at once,
// before it costs more than its socket; returns whether it was. The reply is
// written best effort, without waiting, as in Redis. Whatever the client sent
// already is read first: closing a socket with unread input resets the
// connection, and the client could lose the error.
bool RefuseOverMaxClients(tcp::socket& socket, ServerContext& context) {
  if (context.stats.connected_clients.load() < context.config.Snapshot().maxclients) return false;
  context.stats.rejected_connections.fetch_add(1);
  static constexpr std::string_view kError = "-ERR max number of clients reached\r\n";
  boost::system::error_code ignored;
  socket.non_blocking(true, ignored);
  socket.write_some(asio::buffer(kError.data(), kError.size()), ignored);
  char discard[4096];
  socket.read_some(asio::buffer(discard), ignored);
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
  return true;
}

}  // namespace

Server::Server(const Config& config, LiveConfig& live_config, storage::Keyspace& keyspace)
    : config_(config), context_(keyspace, live_config) {
  for (size_t i = 0, n = ThreadCount(config_.threads); i < n; ++i) {
    contexts_.push_back(std::make_unique<asio::io_context>(1));
    work_guards_.push_back(asio::make_work_guard(*contexts_.back()));
    committers_.push_back(std::make_unique<GroupCommitter>(*contexts_.back(), context_));
  }
  signals_ = std::make_unique<asio::signal_set>(*contexts_[0], SIGINT, SIGTERM, SIGHUP);
  context_.request_shutdown = [this] { RequestShutdown(); };
}

Server::~Server() = default;

std::optional<std::string> Server::Listen() {
  if (config_.port == 0 && config_.tls_port == 0) {
    return "port and tls-port are both 0: there is nothing to listen on";
  }
  std::string error;
  if (config_.tls_port != 0) {
    tls_context_ =
        MakeServerTlsContext(config_, ParseTlsClientAuth(config_.tls_auth_clients), &error);
    if (!tls_context_) return error;
  }
  std::istringstream addresses(config_.bind);
  std::string address;
  while (addresses >> address) {
    boost::system::error_code ec;
    auto ip = asio::ip::make_address(address, ec);
    if (ec) return "invalid bind address '" + address + "'";
    for (auto [port, listeners] :
         {std::pair{config_.port, &listeners_}, std::pair{config_.tls_port, &tls_listeners_}}) {
      if (port == 0) continue;
      tcp::endpoint endpoint(ip, static_cast<unsigned short>(port));
      auto listener =
          Listener::Open(IoContexts(), endpoint, port == config_.port ? "RESP" : "TLS", &ec);
      if (!listener) {
        return "cannot listen on " + address + ":" + std::to_string(port) + ": " + ec.message();
      }
      listeners->push_back(std::move(listener));
    }
  }
  if (listeners_.empty() && tls_listeners_.empty()) return "no bind address configured";
  if (config_.http_port != 0) {
    if (config_.http_tls) {
      // REST clients authenticate with tokens, not certificates.
      http_tls_context_ = MakeServerTlsContext(config_, TlsClientAuth::kNo, &error);
      if (!http_tls_context_) return error;
    }
    http_ = std::make_unique<http::HttpFrontEnd>(config_, context_, IoContexts(),
                                                 http_tls_context_.get());
    if (auto err = http_->Listen()) return err;
  }
  if (config_.metrics_port != 0) {
    metrics_ = std::make_unique<http::HttpFrontEnd>(config_, context_, IoContexts(), nullptr,
                                                    http::HttpFrontEnd::Role::kMetricsOnly);
    if (auto err = metrics_->Listen()) return err;
  }
  return std::nullopt;
}

std::vector<asio::io_context*> Server::IoContexts() const {
  std::vector<asio::io_context*> contexts;
  for (auto& context : contexts_) contexts.push_back(context.get());
  return contexts;
}

void Server::StartAccepting(Listener& listener, asio::ssl::context* tls) {
  listener.Start([this, tls](tcp::socket socket, size_t context_index) {
    if (shutting_down_ || RefuseOverMaxClients(socket, context_)) return;
    auto connection = std::make_shared<Connection>(
        tls ? Stream(std::move(socket), *tls) : Stream(std::move(socket)), context_,
        *committers_[context_index]);
    {
      std::lock_guard lock(connections_mu_);
      // Drop entries of closed connections now and then so the list stays small.
      if (connections_.size() > 64 && connections_.size() % 64 == 0) {
        std::erase_if(connections_, [](const auto& weak) { return weak.expired(); });
      }
      connections_.push_back(connection);
    }
    connection->Start();
  });
}

void Server::WaitForSignal() {
  signals_->async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    if (signal == SIGHUP) {
      // Log rotation: the file was moved away; continue at its path.
      if (auto err = ReopenLogFile()) spdlog::error("SIGHUP: {}", *err);
      spdlog::info("Received SIGHUP, reopened the log file");
      return WaitForSignal();
    }
    spdlog::warn("Received {}, scheduling shutdown...", signal == SIGINT ? "SIGINT" : "SIGTERM");
    RequestShutdown();
  });
}

void Server::Run() {
  WaitForSignal();
  for (auto& listener : listeners_) StartAccepting(*listener, nullptr);
  for (auto& listener : tls_listeners_) StartAccepting(*listener, tls_context_.get());
  if (http_) http_->Start();
  if (metrics_) metrics_->Start();

  std::vector<std::thread> threads;
  for (size_t i = 1; i < contexts_.size(); ++i) {
    threads.emplace_back([ctx = contexts_[i].get()] { ctx->run(); });
  }
  contexts_[0]->run();
  for (auto& t : threads) t.join();
}

void Server::RequestShutdown() {
  if (shutting_down_.exchange(true)) return;
  // Runs on the first I/O thread, which owns the acceptors and the signals.
  asio::post(*contexts_[0], [this] { StopEverything(); });
}

void Server::StopEverything() {
  for (auto& listener : listeners_) listener->Close();
  for (auto& listener : tls_listeners_) listener->Close();
  boost::system::error_code ignored;
  signals_->cancel(ignored);
  if (http_) http_->Stop();
  if (metrics_) metrics_->Stop();
  {
    std::lock_guard lock(connections_mu_);
    for (auto& weak : connections_) {
      if (auto connection = weak.lock()) connection->Stop();
    }
    connections_.clear();
  }
  // With the work guards gone, each io_context returns from run() once its
  // connections have sent their last replies and closed.
  for (auto& guard : work_guards_) guard.reset();
}

}  // namespace tally::server
