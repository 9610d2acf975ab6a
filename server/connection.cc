#include "server/connection.h"

#include <spdlog/spdlog.h>

#include <cstring>

#include "server/acl.h"
#include "server/command_table.h"
#include "server/commands/commands.h"
#include "server/commands/common.h"
#include "server/dispatcher.h"
#include "server/os_limits.h"
#include "server/post_when_durable.h"

namespace tally::server {
namespace {

// Reads take at most this much. A connection starts with room for a small
// request and grows it, up to this, only while reads fill all the room they
// get: an idle client holds half a kilobyte, not 16.
constexpr size_t kReadChunk = 16 * 1024;
constexpr size_t kFirstReadChunk = 512;
// Replies to a long pipeline are sent in pieces of about this size, so the
// output for one read never grows without bound.
constexpr size_t kMaxPendingOutput = 4 * 1024 * 1024;

// How long replies may stay over the soft limit; Redis's syntax allows any
// number of seconds, capped here so the arithmetic cannot overflow.
int64_t SoftLimitMs(const OutputBufferLimit& limit) {
  return std::min<int64_t>(limit.soft_seconds, INT32_MAX) * 1000;
}

// The replies collected before they are sent: a batch closes at 4 MB, or at
// the soft output limit when that is lower, so a client that stops reading
// while its pipeline runs ends up over the soft limit (and is closed in time)
// rather than held just under it forever.
size_t BatchLimit(const OutputBufferLimit& limit) {
  if (limit.soft <= 0) return kMaxPendingOutput;
  return std::min(kMaxPendingOutput, static_cast<size_t>(limit.soft));
}

}  // namespace

Connection::Connection(Stream stream, ServerContext& server, GroupCommitter& committer)
    : stream_(std::move(stream)),
      server_(server),
      committer_(committer),
      read_chunk_(kFirstReadChunk),
      writer_(&output_),
      watchdog_(stream_.get_executor()) {
  Config config = server_.config.Snapshot();
  ApplyConfig(config);
  client_.id = server_.next_client_id.fetch_add(1);
  commands::SetDefaultUser(client_, server_);
  boost::system::error_code ec;
  auto endpoint = stream_.socket().remote_endpoint(ec);
  if (!ec) peer_ = endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  stream_.socket().set_option(boost::asio::ip::tcp::no_delay(true), ec);
  // Finds peers that vanished without a FIN (a crashed host, a dropped NAT
  // entry), which would otherwise hold their slot forever.
  if (config.tcp_keepalive > 0) {
    EnableKeepAlive(stream_.socket().native_handle(), config.tcp_keepalive);
  }
  server_.stats.connected_clients.fetch_add(1);
  server_.stats.connections_received.fetch_add(1);
  // What CLIENT LIST shows of this connection.
  ClientRecord& record = *client_.record;
  record.id = client_.id;
  record.addr = peer_;
  auto local = stream_.socket().local_endpoint(ec);
  if (!ec) record.laddr = local.address().to_string() + ":" + std::to_string(local.port());
  record.fd = stream_.socket().native_handle();
  record.created_ms = MonotonicMs();
  record.last_active_ms = record.created_ms;
  last_io_ms_ = record.created_ms;
}

Connection::~Connection() {
  server_.clients.Remove(client_.id);
  server_.stats.connected_clients.fetch_sub(1);
  spdlog::debug("client {} ({}) closed", client_.id, peer_);
}

void Connection::Start() {
  spdlog::debug("client {} connected from {}", client_.id, peer_);
  // CLIENT KILL from another connection stops this one; weak, so the
  // registry never keeps a closed connection alive.
  client_.record->kill = [weak = weak_from_this()] {
    if (auto self = weak.lock()) self->Stop();
  };
  client_.record->config_changed = [weak = weak_from_this()] {
    auto self = weak.lock();
    if (!self) return;
    boost::asio::post(self->stream_.get_executor(), [self] {
      self->ApplyConfig(self->server_.config.Snapshot());
      self->ArmWatchdog();
    });
  };
  server_.clients.Add(client_.record);
  input_.resize(read_chunk_);
  ArmWatchdog();
  stream_.AsyncHandshake(
      shared_from_this(), [self = shared_from_this()](const boost::system::error_code& error) {
        if (!error) {
          // After the handshake, so a TLS client can read the refusal.
          if (self->RefusedByProtectedMode()) return;
          return self->ReadMore();
        }
        spdlog::debug("client {} TLS handshake failed: {}", self->client_.id, error.message());
        self->Close();
      });
}

void Connection::ApplyConfig(const Config& config) {
  protocol::ParserLimits limits = parser_.limits();
  limits.max_bulk_len = config.proto_max_bulk_len;
  parser_.set_limits(limits);
  query_buffer_limit_ = config.client_query_buffer_limit;
  output_limit_ = config.client_output_buffer_limit;
  idle_timeout_ms_ = config.timeout * 1000;
}

size_t Connection::QueryBufferBytes() const {
  return (input_end_ - input_start_) + parser_.buffered_bytes() + client_.transaction.queued_bytes;
}

void Connection::ArmWatchdog() {
  int64_t deadline = INT64_MAX;
  if (idle_timeout_ms_ > 0) deadline = last_io_ms_ + idle_timeout_ms_;
  if (over_soft_since_ms_ >= 0) {
    deadline = std::min(deadline, over_soft_since_ms_ + SoftLimitMs(output_limit_));
  }
  if (deadline == INT64_MAX || !stream_.socket().is_open()) return;
  if (watchdog_deadline_ms_ != 0 && watchdog_deadline_ms_ <= deadline) return;
  watchdog_deadline_ms_ = deadline;
  // Replaces (and cancels) any earlier wait. The wait holds the connection
  // weakly, so an armed watchdog never keeps a closed connection alive.
  watchdog_.expires_after(
      std::chrono::milliseconds(std::max<int64_t>(0, deadline - MonotonicMs())));
  watchdog_.async_wait([weak = weak_from_this(), deadline](const boost::system::error_code& error) {
    auto self = weak.lock();
    if (!self || self->watchdog_deadline_ms_ != deadline) return;  // gone, or superseded
    self->watchdog_deadline_ms_ = 0;
    if (!error) self->OnWatchdog();
  });
}

void Connection::OnWatchdog() {
  if (!stream_.socket().is_open()) return;
  const int64_t now = MonotonicMs();
  if (idle_timeout_ms_ > 0 && now - last_io_ms_ >= idle_timeout_ms_) {
    spdlog::debug("Closing idle client {} ({})", client_.id, peer_);
    return Close();
  }
  if (over_soft_since_ms_ >= 0 && now - over_soft_since_ms_ >= SoftLimitMs(output_limit_)) {
    spdlog::warn(
        "Client id={} addr={} closed for overcoming of output buffer limits: {} bytes of replies "
        "unread for {} s",
        client_.id, peer_, output_.size(), (now - over_soft_since_ms_) / 1000);
    return Close();
  }
  ArmWatchdog();
}

bool Connection::RefusedByProtectedMode() {
  boost::system::error_code ec;
  const auto peer = stream_.socket().remote_endpoint(ec);
  if (ec) return false;  // already gone: the first read will notice
  // client_.user is still the default user, as the check needs.
  if (!acl::ProtectedModeRejects(server_.config.Snapshot().protected_mode, *client_.user,
                                 peer.address())) {
    return false;
  }
  spdlog::debug("client {} ({}) refused: protected mode", client_.id, peer_);
  output_ = acl::kProtectedModeError;
  client_.close_after_reply = true;
  Write();
  return true;
}

void Connection::Stop() {
  boost::asio::post(stream_.get_executor(), [self = shared_from_this()] {
    self->stopping_ = true;
    if (!self->writing_) return self->Close();
    // A client that does not read its last replies must not hold up shutdown.
    auto timer = std::make_shared<boost::asio::steady_timer>(self->stream_.get_executor(),
                                                             std::chrono::seconds(2));
    timer->async_wait([self, timer](const boost::system::error_code&) { self->Close(); });
  });
}

void Connection::ReadMore() {
  if (stopping_) return Close();
  // Keep unparsed bytes at the front and make room for a full chunk after them.
  if (input_start_ > 0) {
    std::memmove(input_.data(), input_.data() + input_start_, input_end_ - input_start_);
    input_end_ -= input_start_;
    input_start_ = 0;
  }
  if (input_.size() - input_end_ < read_chunk_ / 2) input_.resize(input_end_ + read_chunk_);
  stream_.async_read_some(
      boost::asio::buffer(input_.data() + input_end_, input_.size() - input_end_),
      [self = shared_from_this()](const boost::system::error_code& error, size_t bytes) {
        self->OnRead(error, bytes);
      });
}

void Connection::OnRead(const boost::system::error_code& error, size_t bytes) {
  if (error) {
    if (error != boost::asio::error::eof && error != boost::asio::error::operation_aborted &&
        error != boost::asio::error::connection_reset) {
      spdlog::debug("client {} read error: {}", client_.id, error.message());
    }
    return Close();
  }
  if (input_end_ + bytes == input_.size()) read_chunk_ = std::min(kReadChunk, read_chunk_ * 4);
  input_end_ += bytes;
  server_.stats.net_input_bytes.fetch_add(bytes, std::memory_order_relaxed);
  last_io_ms_ = MonotonicMs();
  ProcessInput();
}

void Connection::ProcessInput() {
  const size_t batch_limit = BatchLimit(output_limit_);
  const uint64_t failures_before = committer_.failures();
  size_t replies = 0;
  bool keyspace = false;  // whether a command read or wrote stored data
  // The commands' writes join this thread's write group (group_committer.h).
  storage::Keyspace::GroupScope group(server_.keyspace, committer_);
  while (!client_.close_after_reply && output_.size() < batch_limit) {
    // A client that has not authenticated gets the parser's tighter limits.
    if (parser_.limits().authenticated != client_.authenticated) {
      protocol::ParserLimits limits = parser_.limits();
      limits.authenticated = client_.authenticated;
      parser_.set_limits(limits);
    }
    size_t consumed = 0;
    auto status = parser_.Parse(
        std::string_view(input_.data() + input_start_, input_end_ - input_start_), &consumed);
    input_start_ += consumed;
    if (status == protocol::RequestParser::Status::kNeedMore) break;
    if (status == protocol::RequestParser::Status::kError) {
      spdlog::debug("client {} protocol error: {}", client_.id, parser_.error());
      writer_.Error("ERR " + parser_.error());
      client_.close_after_reply = true;
      break;
    }
    const size_t output_before = output_.size();
    Dispatch(parser_.args(), client_, writer_, server_);
    if (output_.size() > output_before) ++replies;
    if (!keyspace) keyspace = UsesKeyspace(client_.record->last_command.load());
    if (output_limit_.hard > 0 && output_.size() >= static_cast<size_t>(output_limit_.hard)) {
      spdlog::warn(
          "Client id={} addr={} closed for overcoming of output buffer limits: {} bytes of "
          "replies",
          client_.id, peer_, output_.size());
      output_.clear();
      output_.shrink_to_fit();
      return Close();
    }
  }
  if (QueryBufferBytes() > static_cast<size_t>(query_buffer_limit_)) {
    // Redis's wording, so log watchers that know Redis recognise it.
    spdlog::warn("Closing client that reached max query buffer length: id={} addr={} ({} bytes)",
                 client_.id, peer_, QueryBufferBytes());
    return Close();
  }
  // Another I/O thread waits for a key this group holds: let it go now
  // rather than after every other client this thread serves in this turn.
  if (server_.keyspace.GroupWanted()) server_.keyspace.CommitGroup();
  // A group committed early while these commands ran may have held some of
  // their writes, or writes they read.
  storage::Status failed_meanwhile;
  if (committer_.failures() != failures_before) failed_meanwhile = committer_.last_failure();
  if (server_.keyspace.GroupPending()) {
    writing_ = true;  // the output is spoken for: Stop() must wait for it.
    return committer_.WhenCommitted([self = shared_from_this(), failed_meanwhile, replies,
                                     keyspace](const storage::Status& status, bool durable) {
      self->writing_ = false;
      // The committer waited for the WAL sync as well (group_committer.h).
      self->AfterCommands(failed_meanwhile.ok() ? status : failed_meanwhile, replies, keyspace,
                          durable ? Sync::kDurable : Sync::kNotDurable);
    });
  }
  AfterCommands(failed_meanwhile, replies, keyspace, Sync::kUnknown);
}

bool Connection::UsesKeyspace(const CommandSpec* spec) {
  // EXEC runs whatever was queued; the queued commands themselves only
  // answered QUEUED.
  return spec != nullptr &&
         ((spec->flags & (kWrite | kReadonly | kTouchesAllKeys)) != 0 || spec->name == "exec");
}

void Connection::AfterCommands(const storage::Status& status, size_t replies, bool keyspace,
                               Sync sync) {
  if (!keyspace) {
    // PING, TIME, INFO, CLIENT ...: these replies show no stored data, so
    // neither a failed commit nor a failed WAL sync can make them wrong.
    if (!output_.empty()) return Write();
  } else if (!status.ok()) {
    // Some replies may acknowledge writes that never reached RocksDB, or show
    // values that never did: every one becomes the error (MISCONF for a
    // failing disk), as if each command had met it.
    spdlog::warn("client {}: {} replies replaced by the error of a failed write group", client_.id,
                 replies);
    output_.clear();
    const std::string error = StorageErrorText(status);
    for (size_t i = 0; i < replies; ++i) writer_.Error(error);
  } else if (sync == Sync::kNotDurable) {
    return CloseNotDurable();
  }
  if (!output_.empty()) return sync == Sync::kUnknown ? WriteWhenDurable() : Write();
  if (client_.close_after_reply) return Close();
  ReadMore();
}

void Connection::WriteWhenDurable() {
  storage::WalSyncer& syncer = server_.keyspace.syncer();
  if (syncer.mode() != storage::Durability::kAlways) return Write();
  // These replies may reflect any write visible now, this client's or
  // another's; none may reach the client before those writes are fsynced.
  const uint64_t sequence = syncer.VisibleSequence();
  if (sequence <= syncer.DurableSequence()) return Write();
  writing_ = true;  // the output is spoken for: Stop() must wait for it.
  PostWhenDurable(syncer, sequence, stream_.get_executor(),
                  [self = shared_from_this()](bool durable) {
                    self->writing_ = false;
                    if (!durable) return self->CloseNotDurable();
                    self->Write();
                  });
}

void Connection::CloseNotDurable() {
  // The replies reflect writes that were applied (they are in RocksDB's
  // memtables) but whose fsync failed, and the disk did not recover in time
  // to make them durable. Acknowledging them would be a lie, and so would an
  // error (an error says the write was not applied: a client retrying it
  // would apply it twice). Close without a reply, as a crash would: the
  // outcome is unknown to the client.
  spdlog::error("client {}: closing without replies, the WAL sync failed", client_.id);
  output_.clear();
  Close();
}

void Connection::Write() {
  writing_ = true;
  if (output_limit_.soft > 0 && output_.size() >= static_cast<size_t>(output_limit_.soft)) {
    over_soft_since_ms_ = MonotonicMs();
    ArmWatchdog();
  }
  boost::asio::async_write(
      stream_, boost::asio::buffer(output_),
      // Called after each partial write: a client that reads slowly is not idle.
      [this](const boost::system::error_code& error, size_t written) -> size_t {
        if (written > 0) last_io_ms_ = MonotonicMs();
        return boost::asio::transfer_all()(error, written);
      },
      [self = shared_from_this()](const boost::system::error_code& error, size_t bytes) {
        self->server_.stats.net_output_bytes.fetch_add(bytes, std::memory_order_relaxed);
        self->writing_ = false;
        self->over_soft_since_ms_ = -1;
        self->output_.clear();
        // Give back the memory of an unusually large reply batch.
        if (self->output_.capacity() > 2 * kMaxPendingOutput) self->output_.shrink_to_fit();
        if (error) return self->Close();
        if (self->client_.close_after_reply || self->stopping_) return self->Close();
        // Requests may remain from a long pipeline: finish those before reading.
        self->ProcessInput();
      });
}

void Connection::Close() { stream_.Close(shared_from_this()); }

}  // namespace tally::server
