#include "server/connection.h"

#include <spdlog/spdlog.h>

#include <cstring>

#include "server/dispatcher.h"

namespace tally::server {
namespace {

constexpr size_t kReadChunk = 16 * 1024;
// Replies to a long pipeline are sent in pieces of about this size, so the
// output for one read never grows without bound.
constexpr size_t kMaxPendingOutput = 4 * 1024 * 1024;

}  // namespace

Connection::Connection(boost::asio::ip::tcp::socket socket, ServerContext& server)
    : socket_(std::move(socket)), server_(server), writer_(&output_) {
  protocol::ParserLimits limits;
  Config config = server_.config.Snapshot();
  limits.max_bulk_len = config.proto_max_bulk_len;
  parser_.set_limits(limits);
  client_.id = server_.next_client_id.fetch_add(1);
  client_.authenticated = config.requirepass.empty();
  boost::system::error_code ec;
  auto endpoint = socket_.remote_endpoint(ec);
  if (!ec) peer_ = endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  socket_.set_option(boost::asio::ip::tcp::no_delay(true), ec);
  server_.stats.connected_clients.fetch_add(1);
  server_.stats.connections_received.fetch_add(1);
  // What CLIENT LIST shows of this connection.
  ClientRecord& record = *client_.record;
  record.id = client_.id;
  record.addr = peer_;
  auto local = socket_.local_endpoint(ec);
  if (!ec) record.laddr = local.address().to_string() + ":" + std::to_string(local.port());
  record.fd = socket_.native_handle();
  record.created_ms = MonotonicMs();
  record.last_active_ms = record.created_ms;
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
  server_.clients.Add(client_.record);
  input_.resize(kReadChunk);
  ReadMore();
}

void Connection::Stop() {
  boost::asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->stopping_ = true;
    if (!self->writing_) return self->Close();
    // A client that does not read its last replies must not hold up shutdown.
    auto timer = std::make_shared<boost::asio::steady_timer>(self->socket_.get_executor(),
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
  if (input_.size() - input_end_ < kReadChunk / 2) input_.resize(input_end_ + kReadChunk);
  socket_.async_read_some(
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
  input_end_ += bytes;
  server_.stats.net_input_bytes.fetch_add(bytes, std::memory_order_relaxed);
  ProcessInput();
}

void Connection::ProcessInput() {
  while (!client_.close_after_reply && output_.size() < kMaxPendingOutput) {
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
    Dispatch(parser_.args(), client_, writer_, server_);
  }
  if (!output_.empty()) return WriteWhenDurable();
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
  // The wait counts as work for this connection's io_context, so at shutdown
  // run() cannot return (and the context go away) before the syncer calls back.
  // Members are destroyed in reverse order: the connection reference goes
  // before the work guard, so the io_context (and the Server) cannot finish
  // while the syncer thread still holds this connection.
  struct Hold {
    boost::asio::executor_work_guard<boost::asio::any_io_executor> work;
    std::shared_ptr<Connection> self;
  };
  Hold hold{boost::asio::make_work_guard(socket_.get_executor()), shared_from_this()};
  syncer.WhenDurable(sequence, [hold](bool durable) {
    auto self = hold.self;
    boost::asio::post(self->socket_.get_executor(), [self, durable] {
      if (!durable) {
        // The fsync failed, so these writes might not survive a power loss:
        // acknowledging them would be a lie. Close instead, as a crash would.
        spdlog::error("client {}: closing without replies, the WAL sync failed", self->client_.id);
        self->writing_ = false;
        self->output_.clear();
        return self->Close();
      }
      self->Write();
    });
  });
}

void Connection::Write() {
  writing_ = true;
  boost::asio::async_write(
      socket_, boost::asio::buffer(output_),
      [self = shared_from_this()](const boost::system::error_code& error, size_t bytes) {
        self->server_.stats.net_output_bytes.fetch_add(bytes, std::memory_order_relaxed);
        self->writing_ = false;
        self->output_.clear();
        // Give back the memory of an unusually large reply batch.
        if (self->output_.capacity() > 2 * kMaxPendingOutput) self->output_.shrink_to_fit();
        if (error) return self->Close();
        if (self->client_.close_after_reply || self->stopping_) return self->Close();
        // Requests may remain from a long pipeline: finish those before reading.
        self->ProcessInput();
      });
}

void Connection::Close() {
  if (!socket_.is_open()) return;
  boost::system::error_code ignored;
  socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

}  // namespace tally::server
