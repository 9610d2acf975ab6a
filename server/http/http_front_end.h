// An HTTP listener: the Upstash-compatible REST API on http-bind:http-port
// (which also answers GET /metrics), or the metrics-only listener on
// metrics-bind:metrics-port. It hands each accepted connection to the next
// of the server's I/O threads, the same io_contexts the RESP connections
// use. The Server owns it and drives it from its own Listen, Run and
// shutdown.
#pragma once

// Boost 1.74's asio/awaitable.hpp uses std::exchange without including
// <utility>, so it must come first (in its own block, which clang-format keeps).
#include <utility>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "server/config.h"
#include "server/listener.h"
#include "server/server_context.h"

namespace tally::server::http {

class HttpSession;

class HttpFrontEnd {
 public:
  enum class Role { kRestApi, kMetricsOnly };

  // `contexts`: the I/O threads' io_contexts; the acceptors live on the first.
  // `tls`: for HTTPS (http-tls), the context of every session, which must
  // outlive them; nullptr for plain HTTP.
  HttpFrontEnd(const Config& config, ServerContext& server,
               std::vector<boost::asio::io_context*> contexts, boost::asio::ssl::context* tls,
               Role role = Role::kRestApi);
  ~HttpFrontEnd();

  // Binds every address. The REST API refuses, with a message for the
  // operator, to serve a non-loopback address when no token is configured;
  // the metrics listener serves no data and needs none.
  std::optional<std::string> Listen();
  // Starts accepting; call once, before the io_contexts run.
  void Start();
  // Closes the listeners and every session (after its answer in progress).
  // Runs on the first io_context's thread.
  void Stop();

 private:
  Config config_;
  ServerContext& server_;
  std::vector<boost::asio::io_context*> contexts_;
  boost::asio::ssl::context* tls_;
  Role role_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  bool loopback_only_ = true;
  std::mutex sessions_mu_;
  std::vector<std::weak_ptr<HttpSession>> sessions_;
  std::atomic<bool> stopping_{false};
};

}  // namespace tally::server::http
