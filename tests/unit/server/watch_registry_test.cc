#include "server/watch_registry.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "server/in_flight_commands.h"

using namespace tally::server;

TEST_CASE("a write to a watched key dirties exactly its watchers", "[watch]") {
  WatchRegistry registry;
  CHECK(registry.empty());
  Watcher a, b;
  CHECK(a.Watch(registry, "k1"));
  CHECK_FALSE(a.Watch(registry, "k1"));  // watching twice changes nothing
  CHECK(b.Watch(registry, "k2"));
  CHECK_FALSE(registry.empty());

  registry.Touch({"k1", "other"});
  CHECK(a.Dirty(0));
  CHECK_FALSE(b.Dirty(0));

  a.UnwatchAll();  // EXEC, DISCARD, UNWATCH: clean again, and unregistered
  CHECK_FALSE(a.Dirty(0));
  registry.Touch({"k1"});
  CHECK_FALSE(a.Dirty(0));

  CHECK(registry.WatchedKeys() == std::vector<std::string>{"k2"});
  registry.Touch({"k2"});
  CHECK(b.Dirty(0));
  b.UnwatchAll();
  CHECK(registry.empty());
}

TEST_CASE("a watched key that expires fails EXEC", "[watch]") {
  WatchRegistry registry;
  Watcher w;
  w.Watch(registry, "ttl");
  w.Watch(registry, "no-ttl");
  w.SetExpireAt("ttl", 1000);
  w.SetExpireAt("no-ttl", -1);
  CHECK_FALSE(w.Dirty(999));
  CHECK(w.Dirty(1000));
}

TEST_CASE("a watcher that goes away unregisters itself", "[watch]") {
  WatchRegistry registry;
  {
    Watcher w;
    w.Watch(registry, "k");
  }
  CHECK(registry.empty());
  registry.Touch({"k"});  // must not touch freed memory (ASan)
}

// The protocol of the dispatcher, WATCH and EXEC, with a mutex standing in
// for the keyspace's lock on the key:
//  - a plain writer: in-flight scope; mark watchers dirty if anyone watches;
//    then increment under the key lock;
//  - an optimistic client: WATCH (register, WaitForAll), read, then EXEC:
//    under the key lock, check its watch and write read+1.
// No increment may be lost: the final value counts both kinds exactly.
TEST_CASE("WATCH and EXEC never lose a concurrent write", "[watch][in_flight]") {
  WatchRegistry registry;
  InFlightCommands in_flight;
  std::mutex key_lock;
  int64_t value = 0;  // guarded by key_lock
  constexpr int kPlainWrites = 10000;
  constexpr int kOptimistic = 4000;
  std::thread writer([&] {
    for (int i = 0; i < kPlainWrites; ++i) {
      InFlightCommands::Scope scope(in_flight);
      if (!registry.empty()) registry.Touch({"v"});
      // The rest of the command's work before it writes: this is the window
      // in which a WATCH can register unseen.
      std::this_thread::sleep_for(std::chrono::microseconds(10));
      std::lock_guard lock(key_lock);
      ++value;
    }
  });
  int committed = 0;
  for (int attempts = 0; committed < kOptimistic && attempts < 1000 * kOptimistic; ++attempts) {
    // Between transactions nobody watches, so writers skip the registry.
    std::this_thread::sleep_for(std::chrono::microseconds(10));
    Watcher watcher;
    watcher.Watch(registry, "v");
    in_flight.WaitForAll();
    int64_t seen;
    {
      std::lock_guard lock(key_lock);  // GET
      seen = value;
    }
    // A client's round trips between GET and EXEC.
    std::this_thread::sleep_for(std::chrono::microseconds(10));
    InFlightCommands::Scope scope(in_flight);  // EXEC
    std::lock_guard lock(key_lock);
    if (watcher.Dirty(0)) continue;  // someone wrote: retry
    value = seen + 1;                // SET v seen+1
    ++committed;
  }
  writer.join();
  REQUIRE(committed == kOptimistic);
  std::lock_guard lock(key_lock);
  CHECK(value == kPlainWrites + kOptimistic);
}
