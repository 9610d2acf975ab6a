#include "server/listener.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <vector>

using std::chrono::milliseconds;
using tally::server::Listener;
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

const tcp::endpoint kAnyLoopbackPort(asio::ip::make_address("127.0.0.1"), 0);

}  // namespace

TEST_CASE("an accept loop out of descriptors backs off from 5 ms to 1 s", "[listener]") {
  CHECK(Listener::PauseAfter(1) == milliseconds(5));
  CHECK(Listener::PauseAfter(2) == milliseconds(10));
  CHECK(Listener::PauseAfter(8) == milliseconds(640));
  CHECK(Listener::PauseAfter(9) == milliseconds(1000));
  CHECK(Listener::PauseAfter(1'000'000) == milliseconds(1000));
}

TEST_CASE("a listener hands connections to its io_contexts in turn", "[listener]") {
  asio::io_context first, second;
  boost::system::error_code error;
  auto listener = Listener::Open({&first, &second}, kAnyLoopbackPort, "test", &error);
  REQUIRE(listener);
  std::vector<size_t> handed;
  listener->Start([&](tcp::socket, size_t context_index) {
    handed.push_back(context_index);
    if (handed.size() == 3) listener->Close();
  });
  std::vector<tcp::socket> clients;
  for (int i = 0; i < 3; ++i) {
    clients.emplace_back(second);
    clients.back().connect(listener->local_endpoint());  // completes in the backlog
  }
  first.run_for(std::chrono::seconds(10));  // returns once Close() has ended the loop
  CHECK(handed == std::vector<size_t>{0, 1, 0});
}

TEST_CASE("a listener reports a port already in use", "[listener]") {
  asio::io_context io;
  boost::system::error_code error;
  auto taken = Listener::Open({&io}, kAnyLoopbackPort, "test", &error);
  REQUIRE(taken);
  auto again = Listener::Open({&io}, taken->local_endpoint(), "test", &error);
  CHECK_FALSE(again);
  CHECK(error == asio::error::address_in_use);
}
