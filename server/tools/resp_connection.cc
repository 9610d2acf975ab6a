#include "server/tools/resp_connection.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/write.hpp>
#include <functional>
#include <utility>

#include "protocol/reply_writer.h"

namespace tally::server::tools {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using boost::system::error_code;
using tcp = boost::asio::ip::tcp;

constexpr size_t kReadChunk = 64 * 1024;

bool IsIpAddress(const std::string& host) {
  error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

void AppendCommand(std::string* out, std::initializer_list<std::string_view> args) {
  // A command is a RESP array of bulk strings: exactly what ReplyWriter
  // writes for an array reply.
  protocol::ReplyWriter writer(out);
  writer.ArrayHeader(args.size());
  for (std::string_view arg : args) writer.Bulk(arg);
}

RespConnection::RespConnection(const RedisUrl& url, const ConnectOptions& options)
    : url_(url),
      options_(options),
      name_("the " + options.role + " " + url.Display()),
      ssl_context_(ssl::context::tls_client),
      stream_(io_, ssl_context_),
      chunk_(kReadChunk) {}

RespConnection::~RespConnection() { Close(); }

std::optional<std::string> RespConnection::Open(const RedisUrl& url, const ConnectOptions& options,
                                                std::unique_ptr<RespConnection>* out) {
  std::unique_ptr<RespConnection> conn(new RespConnection(url, options));
  if (auto err = conn->Connect()) return err;
  if (auto err = conn->Handshake()) return err;
  *out = std::move(conn);
  return std::nullopt;
}

void RespConnection::Close() {
  error_code ec;
  stream_.next_layer().close(ec);
  // Let the aborted operations' handlers run now: they refer to the locals of
  // the call that started them.
  io_.restart();
  io_.run();
}

std::optional<std::string> RespConnection::Failed(std::string message) {
  broken_ = true;
  failure_.reset();
  Close();
  return message;
}

std::optional<std::string> RespConnection::RunUntil(const std::function<bool()>& done,
                                                    std::string_view what) {
  for (;;) {
    if (failure_) return Failed(*failure_);
    if (done()) return std::nullopt;
    const uint64_t before = progress_;
    io_.restart();
    io_.run_for(options_.timeout);
    if (failure_) return Failed(*failure_);
    if (done()) return std::nullopt;
    if (progress_ == before) {
      return Failed(name_ + " did not respond within " +
                    std::to_string(options_.timeout.count() / 1000) + " s (" + std::string(what) +
                    ")");
    }
  }
}

std::optional<std::string> RespConnection::Connect() {
  tcp::resolver resolver(io_);
  tcp::resolver::results_type endpoints;
  bool resolved = false;
  resolver.async_resolve(url_.host, std::to_string(url_.port),
                         [&](const error_code& ec, tcp::resolver::results_type results) {
                           ++progress_;
                           resolved = true;
                           if (ec) {
                             failure_ = "cannot resolve the host of " + name_ + ": " + ec.message();
                           } else {
                             endpoints = std::move(results);
                           }
                         });
  if (auto err = RunUntil([&] { return resolved; }, "resolving its host name")) return err;

  bool connected = false;
  asio::async_connect(stream_.next_layer(), endpoints,
                      [&](const error_code& ec, const tcp::endpoint&) {
                        ++progress_;
                        connected = true;
                        if (ec) failure_ = "cannot connect to " + name_ + ": " + ec.message();
                      });
  if (auto err = RunUntil([&] { return connected; }, "connecting")) return err;
  error_code ignored;
  stream_.next_layer().set_option(tcp::no_delay(true), ignored);
  if (!url_.tls) return std::nullopt;

  if (options_.insecure) {
    stream_.set_verify_mode(ssl::verify_none);
  } else {
    error_code ec;
    if (!options_.ca_file.empty()) {
      ssl_context_.load_verify_file(options_.ca_file, ec);
      if (ec) {
        return Failed("cannot read the CA file '" + options_.ca_file + "': " + ec.message());
      }
    } else {
      ssl_context_.set_default_verify_paths(ec);
      if (ec) return Failed("cannot load the system's CA certificates: " + ec.message());
    }
    stream_.set_verify_mode(ssl::verify_peer);
    stream_.set_verify_callback(ssl::host_name_verification(url_.host));
  }
  // SNI: name-based TLS front ends (Upstash's among them) need it.
  if (!IsIpAddress(url_.host)) SSL_set_tlsext_host_name(stream_.native_handle(), url_.host.c_str());
  bool shaken = false;
  stream_.async_handshake(ssl::stream_base::client, [&](const error_code& ec) {
    ++progress_;
    shaken = true;
    if (!ec) return;
    std::string message = "TLS handshake with " + name_ + " failed: " + ec.message();
    const long verify = SSL_get_verify_result(stream_.native_handle());
    if (verify != X509_V_OK) {
      message += " (" + std::string(X509_verify_cert_error_string(verify)) +
                 "; --cacert FILE trusts a private CA, --insecure skips verification for tests)";
    }
    failure_ = std::move(message);
  });
  return RunUntil([&] { return shaken; }, "TLS handshake");
}

std::optional<std::string> RespConnection::Handshake() {
  protocol::Reply reply;
  if (!url_.password.empty()) {
    std::optional<std::string> err;
    if (url_.user.empty()) {
      err = Call({"AUTH", url_.password}, &reply);
    } else {
      err = Call({"AUTH", url_.user, url_.password}, &reply);
    }
    if (err) return err;
    if (reply.IsError()) return Failed(name_ + " refused the credentials: " + reply.str);
  }
  if (url_.db != 0) {
    const std::string db = std::to_string(url_.db);
    if (auto err = Call({"SELECT", db}, &reply)) return err;
    if (reply.IsError()) {
      return Failed("cannot select database " + db + " on " + name_ + ": " + reply.str);
    }
  }
  if (auto err = Call({"PING"}, &reply)) return err;
  if (reply.IsError()) {
    if (reply.str.starts_with("NOAUTH")) {
      return Failed(name_ + " requires a password (" + reply.str +
                    "): put it in the URL, redis://:PASSWORD@host:port or "
                    "redis://USER:PASSWORD@host:port");
    }
    return Failed(name_ + " answered PING with an error: " + reply.str);
  }
  return std::nullopt;
}

std::optional<std::string> RespConnection::Call(std::initializer_list<std::string_view> args,
                                                protocol::Reply* reply) {
  std::string request;
  AppendCommand(&request, args);
  std::vector<protocol::Reply> replies;
  if (auto err = Pipeline(request, 1, &replies)) return err;
  *reply = std::move(replies[0]);
  return std::nullopt;
}

std::optional<std::string> RespConnection::Pipeline(std::string_view request, size_t count,
                                                    std::vector<protocol::Reply>* replies) {
  replies->clear();
  if (broken_) return "the connection to " + name_ + " was lost earlier";

  // Parses the replies in input_, at most `count` in all.
  auto drain = [&]() -> std::optional<std::string> {
    size_t pos = 0;
    while (replies->size() < count) {
      size_t used = 0;
      const auto status = parser_.Parse(std::string_view(input_).substr(pos), &used);
      pos += used;
      if (status == protocol::ReplyParser::Status::kReply) {
        replies->push_back(std::move(parser_.reply()));
      } else if (status == protocol::ReplyParser::Status::kError) {
        return "protocol error from " + name_ + ": " + parser_.error();
      } else {
        break;
      }
    }
    input_.erase(0, pos);
    return std::nullopt;
  };

  bool written = request.empty();
  auto on_write = [&](const error_code& ec, size_t n) {
    progress_ += n;
    written = true;
    if (ec) failure_ = "lost the connection to " + name_ + " while writing: " + ec.message();
  };
  if (!request.empty()) {
    if (url_.tls) {
      asio::async_write(stream_, asio::buffer(request), on_write);
    } else {
      asio::async_write(stream_.next_layer(), asio::buffer(request), on_write);
    }
  }

  std::function<void()> read_more = [&] {
    auto on_read = [&](const error_code& ec, size_t n) {
      progress_ += n;
      if (ec) {
        if (!failure_) {
          failure_ = ec == asio::error::eof || ec == ssl::error::stream_truncated
                         ? name_ + " closed the connection"
                         : "lost the connection to " + name_ + ": " + ec.message();
        }
        return;
      }
      input_.append(chunk_.data(), n);
      if (auto err = drain()) {
        failure_ = std::move(err);
        return;
      }
      if (replies->size() < count) read_more();
    };
    if (url_.tls) {
      stream_.async_read_some(asio::buffer(chunk_), on_read);
    } else {
      stream_.next_layer().async_read_some(asio::buffer(chunk_), on_read);
    }
  };

  if (auto err = drain()) return Failed(*err);
  if (replies->size() < count) read_more();
  return RunUntil([&] { return written && replies->size() == count; }, "waiting for replies");
}

}  // namespace tally::server::tools
