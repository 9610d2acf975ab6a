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
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "server/config.h"
#include "server/server_context.h"

namespace tally::server::http {

class HttpSession;

class HttpFrontEnd {
 public:
  enum class Role { kRestApi, kMetricsOnly };

  // `contexts`: the I/O threads' io_contexts; the acceptors live on the first.
  HttpFrontEnd(const Config& config, ServerContext& server,
               std::vector<boost::asio::io_context*> contexts, Role role = Role::kRestApi);
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
  void Accept(boost::asio::ip::tcp::acceptor& acceptor);

  Config config_;
  ServerContext& server_;
  std::vector<boost::asio::io_context*> contexts_;
  Role role_;
  std::vector<std::unique_ptr<boost::asio::ip::tcp::acceptor>> acceptors_;
  size_t next_context_ = 0;  // only touched on the first io_context's thread
  bool loopback_only_ = true;
  std::mutex sessions_mu_;
  std::vector<std::weak_ptr<HttpSession>> sessions_;
  std::atomic<bool> stopping_{false};
};

}  // namespace tally::server::http
