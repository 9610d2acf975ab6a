#include "storage/key_locks.h"

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

using tally::storage::KeyLocks;

// Each thread increments plain (non-atomic) counters only while holding the
// locks of their keys; any gap in mutual exclusion loses increments, and a
// lock-order bug deadlocks (the test then never finishes).
TEST_CASE("key locks exclude each other and never deadlock", "[key_locks]") {
  KeyLocks locks;
  int64_t a = 0;
  int64_t b = 0;
  constexpr int kRounds = 20'000;
  std::vector<std::thread> threads;
  threads.emplace_back([&] {
    for (int i = 0; i < kRounds; ++i) {
      auto guard = locks.Lock("a");
      ++a;
    }
  });
  threads.emplace_back([&] {
    for (int i = 0; i < kRounds; ++i) {
      auto guard = locks.Lock(std::vector<std::string_view>{"a", "b", "a"});
      ++a;
      ++b;
    }
  });
  threads.emplace_back([&] {
    for (int i = 0; i < kRounds; ++i) {
      auto guard = locks.Lock(std::vector<std::string_view>{"b", "a"});
      ++a;
      ++b;
    }
  });
  threads.emplace_back([&] {
    for (int i = 0; i < kRounds / 100; ++i) {
      auto guard = locks.LockAll();
      ++a;
      ++b;
    }
  });
  for (auto& thread : threads) thread.join();
  CHECK(a == 3 * kRounds + kRounds / 100);
  CHECK(b == 2 * kRounds + kRounds / 100);
}

// A guard moved into another keeps the stripes held until the new owner lets
// go; the moved-from and default guards release nothing.
TEST_CASE("a moved key lock guard keeps holding its stripes", "[key_locks]") {
  KeyLocks locks;
  KeyLocks::Guard outer;
  {
    auto inner = locks.Lock("a");
    outer = std::move(inner);
  }
  std::atomic<bool> locked{false};
  std::thread waiter([&] {
    auto guard = locks.Lock("a");
    locked = true;
  });
  // Cannot fail spuriously: the waiter can only get in once `outer` lets go.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK_FALSE(locked);
  outer = KeyLocks::Guard();
  waiter.join();
  CHECK(locked);
  auto again = locks.LockAll();  // every stripe is free again.
}
