// One RESP client connection. Owned by a shared_ptr that its pending
// asynchronous operations hold; it lives on one io_context (one thread), so
// its state needs no locking.
//
// Flow: read what the socket has, parse and execute every complete request in
// it, then send all their replies with a single write. Reading resumes only
// when that write has finished, which bounds the memory a client that never
// reads its replies can make the server hold. With durability "always" the
// write also waits for the group commit covering the writes it reflects.
#pragma once

// Boost 1.74's asio/awaitable.hpp uses std::exchange without including
// <utility>, so it must come first (in its own block, which clang-format keeps).
#include <utility>

#include <boost/asio.hpp>
#include <memory>
#include <string>
#include <vector>

#include "protocol/reply_writer.h"
#include "protocol/request_parser.h"
#include "server/command_context.h"
#include "server/server_context.h"

namespace tally::server {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(boost::asio::ip::tcp::socket socket, ServerContext& server);
  ~Connection();

  void Start();
  // Stops reading; the connection closes once its pending replies are sent.
  // Safe to call from any thread.
  void Stop();

 private:
  // Redis's protected mode: sends the DENIED error and closes, returning
  // true, when this client may not connect (server/acl.h).
  bool RefusedByProtectedMode();
  void ReadMore();
  void OnRead(const boost::system::error_code& error, size_t bytes);
  // Parses and executes buffered requests until the input runs out or the
  // pending output is large enough to send first. Then writes or reads.
  void ProcessInput();
  // Sends output_ once every write it may reflect is durable (see
  // storage/wal_syncer.h); at once unless durability is "always".
  void WriteWhenDurable();
  void Write();
  void Close();

  boost::asio::ip::tcp::socket socket_;
  ServerContext& server_;
  std::string peer_;
  protocol::RequestParser parser_;
  std::vector<char> input_;
  size_t input_start_ = 0;  // first unparsed byte in input_
  size_t input_end_ = 0;    // end of the bytes read so far
  std::string output_;
  protocol::ReplyWriter writer_;
  ClientState client_;
  bool writing_ = false;
  bool stopping_ = false;
};

}  // namespace tally::server
