#include "server/listener.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace tally::server {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr auto kLogEvery = std::chrono::seconds(10);

bool IsOutOfResources(const boost::system::error_code& error) {
  return error == asio::error::no_descriptors                            // EMFILE
         || error == boost::system::errc::too_many_files_open_in_system  // ENFILE
         || error == asio::error::no_buffer_space                        // ENOBUFS
         || error == asio::error::no_memory;                             // ENOMEM
}

}  // namespace

Listener::Listener(std::vector<asio::io_context*> contexts, std::string name)
    : contexts_(std::move(contexts)),
      name_(std::move(name)),
      acceptor_(*contexts_[0]),
      pause_(*contexts_[0]) {}

std::unique_ptr<Listener> Listener::Open(std::vector<asio::io_context*> contexts,
                                         const tcp::endpoint& endpoint, std::string name,
                                         boost::system::error_code* error) {
  std::unique_ptr<Listener> listener(new Listener(std::move(contexts), std::move(name)));
  tcp::acceptor& acceptor = listener->acceptor_;
  acceptor.open(endpoint.protocol(), *error);
  if (!*error) acceptor.set_option(tcp::acceptor::reuse_address(true), *error);
  if (!*error) acceptor.bind(endpoint, *error);
  if (!*error) acceptor.listen(asio::socket_base::max_listen_connections, *error);
  if (*error) return nullptr;
  return listener;
}

std::chrono::milliseconds Listener::PauseAfter(uint64_t failures) {
  const uint64_t doublings = std::min<uint64_t>(failures - 1, 8);  // 5 ms << 8 > 1 s
  return std::min(std::chrono::milliseconds(5 << doublings), std::chrono::milliseconds(1000));
}

void Listener::Start(Handler handler) {
  handler_ = std::move(handler);
  Accept();
}

void Listener::Close() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  pause_.cancel();
}

void Listener::Accept() {
  const size_t index = next_context_;
  next_context_ = (next_context_ + 1) % contexts_.size();
  acceptor_.async_accept(*contexts_[index], [this, index](boost::system::error_code error,
                                                          tcp::socket socket) {
    if (error == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (error) return OnAcceptError(error);
    if (failures_ > 0) {
      spdlog::warn("{}: accepting connections again after {} failed attempts", name_, failures_);
      failures_ = 0;
    }
    handler_(std::move(socket), index);
    Accept();
  });
}

void Listener::OnAcceptError(const boost::system::error_code& error) {
  if (!IsOutOfResources(error)) {
    spdlog::warn("{}: accept failed: {}", name_, error.message());
    return Accept();
  }
  ++failures_;
  const auto now = std::chrono::steady_clock::now();
  if (failures_ == 1) {
    spdlog::warn(
        "{}: accept failed: {}; new connections wait in the backlog, retrying after 5 ms, "
        "then up to every second",
        name_, error.message());
    last_logged_ = now;
  } else if (now - last_logged_ >= kLogEvery) {
    spdlog::warn("{}: accept still failing: {} ({} attempts)", name_, error.message(), failures_);
    last_logged_ = now;
  }
  pause_.expires_after(PauseAfter(failures_));
  pause_.async_wait([this](boost::system::error_code waited) {
    if (waited || !acceptor_.is_open()) return;  // cancelled by Close()
    Accept();
  });
}

}  // namespace tally::server
