// One RESP client connection. Owned by a shared_ptr that its pending
// asynchronous operations hold; it lives on one io_context (one thread), so
// its state needs no locking.
//
// Flow: read what the socket has, parse and execute every complete request in
// it, then send all their replies with a single write. Reading resumes only
// when that write has finished, which bounds the memory a client that never
// reads its replies can make the server hold. The commands' writes join the
// I/O thread's write group (group_committer.h), and the replies wait until
// that group is in RocksDB; with durability "always" they also wait for the
// WAL sync covering the writes they reflect.
//
// Limits (docs/security.md): a client is closed when its unexecuted input
// passes client-query-buffer-limit, when its unsent replies pass the hard
// output limit or stay over the soft one too long, and when it is idle longer
// than `timeout`.
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
#include "server/group_committer.h"
#include "server/server_context.h"
#include "server/stream.h"

namespace tally::server {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // `stream`: plain or TLS; a TLS client is served once its handshake is done.
  // `committer`: the group committer of the I/O thread the stream lives on.
  Connection(Stream stream, ServerContext& server, GroupCommitter& committer);
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
  // Goes on once the commands of a read have run and their writes are
  // committed. `status`: a failure of a commit that may hold those writes,
  // or that they read, replaces each of the `replies` replies with its error.
  // `durable`: everything the replies reflect is known to be durable.
  // Whether replies wait for (kUnknown), or have seen, the WAL sync of what
  // they reflect.
  enum class Sync { kUnknown, kDurable, kNotDurable };
  // Sends the replies of the commands just run: `keyspace` says whether any
  // of them read or wrote stored data, `status` is the commit of their writes.
  void AfterCommands(const storage::Status& status, size_t replies, bool keyspace, Sync sync);
  static bool UsesKeyspace(const CommandSpec* spec);
  void CloseNotDurable();
  // Sends output_ once every write it may reflect is durable (see
  // storage/wal_syncer.h); at once unless durability is "always".
  void WriteWhenDurable();
  void Write();
  void Close();
  // Takes the limits it caches from `config` (at start, and after CONFIG SET).
  void ApplyConfig(const Config& config);
  // The unexecuted request bytes this client makes the server hold.
  size_t QueryBufferBytes() const;
  // Schedules the watchdog for the earliest of the idle and soft-limit
  // deadlines now in force, unless it already wakes by then.
  void ArmWatchdog();
  void OnWatchdog();

  Stream stream_;
  ServerContext& server_;
  GroupCommitter& committer_;
  std::string peer_;
  protocol::RequestParser parser_;
  std::vector<char> input_;
  size_t input_start_ = 0;  // first unparsed byte in input_
  size_t input_end_ = 0;    // end of the bytes read so far
  size_t read_chunk_;       // room offered to the next read (see connection.cc)
  std::string output_;
  protocol::ReplyWriter writer_;
  ClientState client_;
  bool writing_ = false;
  bool stopping_ = false;

  // Limits from the configuration.
  int64_t query_buffer_limit_ = 0;
  OutputBufferLimit output_limit_;
  int64_t idle_timeout_ms_ = 0;  // 0: never
  // Closes the connection when it has been idle, or over the soft output
  // limit, for too long; armed only while one of those can happen.
  boost::asio::steady_timer watchdog_;
  int64_t watchdog_deadline_ms_ = 0;  // MonotonicMs() it wakes at; 0: not armed
  int64_t last_io_ms_ = 0;            // last time bytes came in or went out
  int64_t over_soft_since_ms_ = -1;   // when the replies held reached the soft limit
};

}  // namespace tally::server
