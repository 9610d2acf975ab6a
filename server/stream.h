// A client connection's byte stream: plain TCP, or TLS over TCP. The RESP
// Connection and the REST HttpSession are each written once against it and
// serve both kinds of client; only their listener decides which it is.
//
// It is an Asio AsyncReadStream and AsyncWriteStream (async_read_some,
// async_write_some, get_executor), so asio::async_write and Beast's HTTP
// reads and writes work on it unchanged. Like the streams it wraps, it
// allows one read and one write in flight at a time, from its executor.
#pragma once

// Boost 1.74's asio/awaitable.hpp uses std::exchange without including
// <utility>, so it must come first (in its own block, which clang-format keeps).
#include <utility>

#include <openssl/ssl.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <type_traits>

namespace tally::server {

// A TLS client has this long to finish its handshake; one that connects and
// stalls (or speaks plain text and waits) is then closed.
inline constexpr std::chrono::seconds kTlsHandshakeTimeout{10};
// Closing a TLS connection waits at most this long for its close_notify to go
// out (a client that does not read can block it).
inline constexpr std::chrono::seconds kTlsCloseTimeout{1};

namespace stream_detail {
inline boost::asio::ip::tcp::socket& TcpSocket(boost::asio::ip::tcp::socket& socket) {
  return socket;
}
// Beast's tcp_stream, which adds timeouts to a socket.
template <class Transport>
auto TcpSocket(Transport& transport) -> decltype((transport.socket())) {
  return transport.socket();
}
}  // namespace stream_detail

// `Transport` is what carries the bytes (a tcp::socket, or Beast's
// tcp_stream); `Tls` is a TLS stream over a Transport (asio::ssl::stream, or
// Beast's ssl_stream, which coalesces small writes into fewer records).
template <class Transport, class Tls>
class BasicStream {
  static_assert(std::is_same_v<typename Tls::next_layer_type, Transport>);

 public:
  using executor_type = typename Transport::executor_type;

  // A plain-text stream.
  explicit BasicStream(boost::asio::ip::tcp::socket socket)
      : plain_(std::in_place, std::move(socket)), timer_(get_executor()) {}
  // The server side of TLS over `socket`, with `context`'s certificate and
  // client verification; `context` must outlive the stream.
  BasicStream(boost::asio::ip::tcp::socket socket, boost::asio::ssl::context& context)
      : tls_(std::in_place, std::move(socket), context), timer_(get_executor()) {}

  // Movable until the first operation starts (pending operations refer to it).
  BasicStream(BasicStream&&) = default;

  executor_type get_executor() { return transport().get_executor(); }
  Transport& transport() { return tls_ ? tls_->next_layer() : *plain_; }
  boost::asio::ip::tcp::socket& socket() { return stream_detail::TcpSocket(transport()); }

  // Runs the TLS handshake, then calls done(error). A plain stream has none:
  // done(success) is posted at once. A handshake that fails (wrong CA, no
  // client certificate when one is required, plain text) or lasts longer
  // than kTlsHandshakeTimeout (it then fails with asio::error::timed_out)
  // leaves the socket for the caller to Close. `owner` keeps this stream
  // alive until both the handshake and its deadline are done.
  template <class Handler>
  void AsyncHandshake(std::shared_ptr<void> owner, Handler done) {
    if (!tls_) {
      boost::asio::post(get_executor(),
                        [done = std::move(done)]() mutable { done(boost::system::error_code()); });
      return;
    }
    timer_.expires_after(kTlsHandshakeTimeout);
    timer_.async_wait([this, owner](const boost::system::error_code& error) {
      if (error || handshake_finished_) return;
      handshake_timed_out_ = true;
      CloseSocket();  // fails the pending handshake
    });
    tls_->async_handshake(boost::asio::ssl::stream_base::server,
                          [this, owner = std::move(owner),
                           done = std::move(done)](boost::system::error_code error) mutable {
                            handshake_finished_ = true;
                            timer_.cancel();
                            if (handshake_timed_out_) {
                              error = boost::asio::error::timed_out;
                            } else if (!error) {
                              established_ = true;
                            }
                            done(error);
                          });
  }

  template <class MutableBuffers, class Handler>
  void async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    if (tls_) {
      tls_->async_read_some(buffers, std::forward<Handler>(handler));
    } else {
      plain_->async_read_some(buffers, std::forward<Handler>(handler));
    }
  }

  template <class ConstBuffers, class Handler>
  void async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    if (tls_) {
      tls_->async_write_some(buffers, std::forward<Handler>(handler));
    } else {
      plain_->async_write_some(buffers, std::forward<Handler>(handler));
    }
  }

  // Ends the connection; idempotent. A TLS connection that completed its
  // handshake first sends its close_notify, so the client sees a clean end
  // rather than a truncation (waiting at most kTlsCloseTimeout, and not for
  // the client's close_notify, as Redis does); then the socket is shut down
  // and closed, which fails every pending operation. `owner` keeps this
  // stream alive meanwhile.
  void Close(std::shared_ptr<void> owner) {
    if (closing_) return;
    closing_ = true;
    if (!established_) return CloseSocket();
    // A read in flight ends (end of stream) rather than returning requests
    // that arrive while the close_notify goes out.
    boost::system::error_code ignored;
    socket().shutdown(boost::asio::ip::tcp::socket::shutdown_receive, ignored);
    // Marked as if the client's close_notify had arrived, SSL_shutdown
    // completes once ours is written instead of then reading for theirs.
    SSL* ssl = tls_->native_handle();
    SSL_set_shutdown(ssl, SSL_get_shutdown(ssl) | SSL_RECEIVED_SHUTDOWN);
    timer_.expires_after(kTlsCloseTimeout);
    timer_.async_wait([this, owner](const boost::system::error_code& error) {
      if (!error) CloseSocket();
    });
    tls_->async_shutdown([this, owner](const boost::system::error_code&) { CloseSocket(); });
  }

 private:
  void CloseSocket() {
    timer_.cancel();
    auto& tcp = socket();
    if (!tcp.is_open()) return;
    boost::system::error_code ignored;
    tcp.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
    tcp.close(ignored);
  }

  std::optional<Transport> plain_;
  std::optional<Tls> tls_;
  // The handshake's deadline, then the close_notify's.
  boost::asio::steady_timer timer_;
  bool handshake_finished_ = false;
  bool handshake_timed_out_ = false;
  bool established_ = false;  // the TLS handshake succeeded
  bool closing_ = false;
};

// The RESP server's stream (server/connection.h).
using Stream = BasicStream<boost::asio::ip::tcp::socket,
                           boost::asio::ssl::stream<boost::asio::ip::tcp::socket>>;

}  // namespace tally::server
