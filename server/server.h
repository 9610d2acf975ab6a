// The RESP server: one io_context per I/O thread, listeners that spread
// new connections over them round-robin, orderly shutdown on SIGINT,
// SIGTERM or SHUTDOWN, and the log file reopened on SIGHUP.
#pragma once

// Boost 1.74's asio/awaitable.hpp uses std::exchange without including
// <utility>, so it must come first (in its own block, which clang-format keeps).
#include <utility>

#include <boost/asio.hpp>
#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "server/config.h"
#include "server/group_committer.h"
#include "server/listener.h"
#include "server/server_context.h"
#include "storage/keyspace.h"

namespace tally::server {

class Connection;
namespace http {
class HttpFrontEnd;
}

class Server {
 public:
  Server(const Config& config, LiveConfig& live_config, storage::Keyspace& keyspace);
  ~Server();

  // Binds every configured address, on port and on tls-port (each unless 0),
  // after loading the TLS certificates if a TLS listener is configured.
  // Returns an error message on failure.
  std::optional<std::string> Listen();
  // Serves until shutdown is requested; returns when every I/O thread has
  // finished its in-flight work and every connection is closed.
  void Run();
  // Thread-safe; idempotent.
  void RequestShutdown();

  ServerContext& context() { return context_; }

 private:
  // Handles the next SIGINT/SIGTERM (shutdown) or SIGHUP (reopen the log).
  void WaitForSignal();
  // Starts `listener`, which hands each connection to the next I/O thread.
  // `tls`: the context of a TLS listener; nullptr for plain text.
  void StartAccepting(Listener& listener, boost::asio::ssl::context* tls);
  std::vector<boost::asio::io_context*> IoContexts() const;
  void StopEverything();

  Config config_;
  ServerContext context_;
  // Declared before the io_contexts, so they outlive every TLS stream.
  std::unique_ptr<boost::asio::ssl::context> tls_context_;       // tls-port
  std::unique_ptr<boost::asio::ssl::context> http_tls_context_;  // http-tls
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  using WorkGuard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  std::vector<WorkGuard> work_guards_;
  // One per io_context; declared after them, so they go first (and with them
  // any connection still waiting for a commit).
  std::vector<std::unique_ptr<GroupCommitter>> committers_;
  std::vector<std::unique_ptr<Listener>> listeners_;      // port
  std::vector<std::unique_ptr<Listener>> tls_listeners_;  // tls-port
  std::unique_ptr<boost::asio::signal_set> signals_;
  std::unique_ptr<http::HttpFrontEnd> http_;     // the REST API, when http-port is set
  std::unique_ptr<http::HttpFrontEnd> metrics_;  // GET /metrics only, when metrics-port is set

  std::mutex connections_mu_;
  std::vector<std::weak_ptr<Connection>> connections_;
  std::atomic<bool> shutting_down_{false};
};

}  // namespace tally::server
