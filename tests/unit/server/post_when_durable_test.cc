#include "server/post_when_durable.h"

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "storage/keyspace.h"

namespace {

// Notes whether, and on which thread, it was destroyed.
struct DestructionProbe {
  DestructionProbe(int* destroyed, std::thread::id* destroyed_on)
      : destroyed(destroyed), destroyed_on(destroyed_on) {}
  ~DestructionProbe() {
    *destroyed_on = std::this_thread::get_id();
    ++*destroyed;
  }
  int* destroyed;
  std::thread::id* destroyed_on;
};

}  // namespace

TEST_CASE("PostWhenDurable answers on the executor's thread and lets go of everything there",
          "[post_when_durable]") {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("tally-post-when-durable-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  {
    tally::storage::OpenOptions options;
    options.dir = dir.string();
    options.durability = tally::storage::Durability::kAlways;
    std::unique_ptr<tally::storage::Keyspace> keyspace;
    REQUIRE(tally::storage::Keyspace::Open(options, &keyspace).ok());
    tally::storage::WalSyncer& syncer = keyspace->syncer();
    boost::asio::io_context io;
    const std::thread::id io_thread = std::this_thread::get_id();

    // Many rounds: the syncer thread's timing differs from one to the next.
    for (int round = 1; round <= 100; ++round) {
      int64_t value = 0;
      REQUIRE(keyspace->IncrBy("k", 1, &value).ok());
      REQUIRE(syncer.VisibleSequence() > syncer.DurableSequence());  // a real wait
      int destroyed = 0;
      std::thread::id destroyed_on;
      std::thread::id ran_on;
      bool was_durable = false;
      auto probe = std::make_shared<DestructionProbe>(&destroyed, &destroyed_on);
      tally::server::PostWhenDurable(
          syncer, syncer.VisibleSequence(), io.get_executor(),
          [probe = std::move(probe), &ran_on, &was_durable](bool durable) {
            ran_on = std::this_thread::get_id();
            was_durable = durable;
          });
      io.restart();
      io.run();  // the wait is work: returns only once the answer is back and done with.
      INFO("round " << round);
      CHECK(was_durable);
      CHECK(syncer.DurableSequence() >= syncer.VisibleSequence());
      CHECK(ran_on == io_thread);
      // Nothing the handler owned outlives run(), or dies on the syncer thread.
      CHECK(destroyed == 1);
      CHECK(destroyed_on == io_thread);
    }
  }
  std::filesystem::remove_all(dir);
}
