// A listening TCP socket and its accept loop, shared by the RESP server and
// the HTTP front ends so both bind, spread connections and survive running
// out of descriptors the same way.
#pragma once

// Boost 1.74's asio/awaitable.hpp uses std::exchange without including
// <utility>, so it must come first (in its own block, which clang-format keeps).
#include <utility>

#include <boost/asio.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace tally::server {

class Listener {
 public:
  // Called on the listener's thread for each accepted connection; `socket`
  // belongs to contexts[context_index].
  using Handler = std::function<void(boost::asio::ip::tcp::socket socket, size_t context_index)>;

  // Binds `endpoint` (with SO_REUSEADDR) and listens, on contexts[0]'s
  // thread. Returns nullptr with `*error` set if any step failed. `name`
  // ("RESP", "HTTP", ...) only labels log lines.
  static std::unique_ptr<Listener> Open(std::vector<boost::asio::io_context*> contexts,
                                        const boost::asio::ip::tcp::endpoint& endpoint,
                                        std::string name, boost::system::error_code* error);

  // Accepts until Close(), handing the connections to the io_contexts in
  // turn. Call once.
  void Start(Handler handler);
  // Stops accepting (a pause in progress included). Call on contexts[0]'s
  // thread.
  void Close();
  // The address listened on (with the port the system chose, for port 0).
  boost::asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }

  // How long the loop pauses after its n-th consecutive failure for lack of
  // descriptors or memory (n >= 1): 5 ms, doubling up to 1 s, as Go's
  // net/http does.
  static std::chrono::milliseconds PauseAfter(uint64_t failures);

 private:
  Listener(std::vector<boost::asio::io_context*> contexts, std::string name);
  void Accept();
  // Most accept errors concern only the connection being accepted (it was
  // reset while it waited) and the loop goes on at once. Running out of
  // descriptors or memory leaves the connection in the backlog, where
  // accepting again at once would fail again, in a loop that burns a core
  // and floods the log: then the loop pauses, and logs only the first
  // failure, then every 10 s, and once more when it accepts again.
  void OnAcceptError(const boost::system::error_code& error);

  std::vector<boost::asio::io_context*> contexts_;
  const std::string name_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer pause_;
  Handler handler_;
  size_t next_context_ = 0;
  uint64_t failures_ = 0;  // consecutive failures for lack of resources
  std::chrono::steady_clock::time_point last_logged_{};
};

}  // namespace tally::server
