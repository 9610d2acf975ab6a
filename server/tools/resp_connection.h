// A small blocking client for one Redis-protocol server (Redis, Vercel KV /
// Upstash, another Tally), for the import and export tools: connect (TCP or
// TLS), authenticate, then send pipelines and read their replies. Blocking
// is right here: a tool does one thing at a time and has no other clients to
// serve. Internally it runs Asio operations with an inactivity timeout, and
// writes a pipeline while reading its replies, so a pipeline larger than the
// socket buffers cannot deadlock against a server that stops reading while
// its replies are unread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <chrono>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/reply_parser.h"
#include "server/tools/redis_url.h"

namespace tally::server::tools {

struct ConnectOptions {
  // For rediss:// URLs: the server certificate is verified against the
  // system's CA store (and its name against the URL's host) unless
  // ca_file names a PEM file of trusted CAs to use instead, or insecure
  // turns verification off (for testing only).
  std::string ca_file;
  bool insecure = false;
  // A connect, a handshake or a pipeline fails after this long without any
  // bytes moving.
  std::chrono::milliseconds timeout{30000};
  // "source" or "destination": named in every error message.
  std::string role = "server";
};

// Appends `args` to `out` as one RESP command (an array of bulk strings).
void AppendCommand(std::string* out, std::initializer_list<std::string_view> args);

class RespConnection {
 public:
  // Connects to `url`: resolves the host, connects, does the TLS handshake
  // for rediss://, sends AUTH when the URL has a password and SELECT when it
  // names a database, and checks with PING that commands are accepted. On
  // failure returns a message for a person, e.g. "cannot connect to the
  // source redis://127.0.0.1:1: Connection refused" or "the source
  // redis://h:6379 refused the password: WRONGPASS invalid ...".
  static std::optional<std::string> Open(const RedisUrl& url, const ConnectOptions& options,
                                         std::unique_ptr<RespConnection>* out);
  ~RespConnection();

  // Sends `count` commands already encoded in `request` (AppendCommand) and
  // reads exactly `count` replies into *replies, in order. Error replies are
  // replies (the caller judges them); the return value is an I/O failure,
  // a timeout or a protocol violation, after which the connection is closed
  // and every later call fails.
  std::optional<std::string> Pipeline(std::string_view request, size_t count,
                                      std::vector<protocol::Reply>* replies);
  // One command, one reply.
  std::optional<std::string> Call(std::initializer_list<std::string_view> args,
                                  protocol::Reply* reply);

  // "the source redis://host:port", for messages.
  const std::string& name() const { return name_; }

 private:
  RespConnection(const RedisUrl& url, const ConnectOptions& options);
  std::optional<std::string> Connect();
  std::optional<std::string> Handshake();
  // Runs the io_context until done() is true. Fails (and closes the
  // connection) when nothing moved for the timeout, or when an operation
  // recorded an error in failure_.
  std::optional<std::string> RunUntil(const std::function<bool()>& done, std::string_view what);
  void Close();
  std::optional<std::string> Failed(std::string message);

  RedisUrl url_;
  ConnectOptions options_;
  std::string name_;
  boost::asio::io_context io_;
  boost::asio::ssl::context ssl_context_;
  boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream_;
  bool broken_ = false;
  uint64_t progress_ = 0;  // bytes moved; the timeout watches it
  std::optional<std::string> failure_;
  protocol::ReplyParser parser_;
  std::string input_;  // bytes read, not yet parsed
  std::vector<char> chunk_;
};

}  // namespace tally::server::tools
