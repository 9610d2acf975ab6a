// Opening a listening TCP socket, shared by the RESP server and the HTTP
// front end so both bind the same way.
#pragma once

// Boost 1.74's asio/awaitable.hpp uses std::exchange without including
// <utility>, so it must come first (in its own block, which clang-format keeps).
#include <utility>

#include <boost/asio.hpp>
#include <memory>

namespace tally::server {

// An acceptor on `context` bound to `endpoint` (with SO_REUSEADDR) and
// listening; nullptr with `*error` set if any step failed.
inline std::unique_ptr<boost::asio::ip::tcp::acceptor> OpenListener(
    boost::asio::io_context& context, const boost::asio::ip::tcp::endpoint& endpoint,
    boost::system::error_code* error) {
  using boost::asio::ip::tcp;
  auto acceptor = std::make_unique<tcp::acceptor>(context);
  acceptor->open(endpoint.protocol(), *error);
  if (!*error) acceptor->set_option(tcp::acceptor::reuse_address(true), *error);
  if (!*error) acceptor->bind(endpoint, *error);
  if (!*error) acceptor->listen(boost::asio::socket_base::max_listen_connections, *error);
  if (*error) return nullptr;
  return acceptor;
}

}  // namespace tally::server
