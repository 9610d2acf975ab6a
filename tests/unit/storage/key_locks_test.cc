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

TEST_CASE("a held set never waits while holding, and waiters flag it", "[key_locks]") {
  KeyLocks locks;
  KeyLocks::HeldSet held(&locks);
  const size_t a = KeyLocks::StripeOf("a");
  REQUIRE(held.TryAdd(a));
  REQUIRE(held.TryAdd(a));  // held already: no second lock
  CHECK(held.Holds(a));
  CHECK_FALSE(held.wanted());

  // Another thread's try fails, and a blocking lock waits, flagging the set.
  std::atomic<bool> other_tried_and_failed{false};
  std::atomic<bool> other_locked{false};
  std::thread other([&] {
    KeyLocks::HeldSet mine(&locks);
    other_tried_and_failed = !mine.TryAdd(a);
    auto guard = locks.Lock("a");
    other_locked = true;
  });
  while (!held.wanted()) std::this_thread::yield();
  CHECK(other_tried_and_failed);
  CHECK_FALSE(other_locked);
  held.ReleaseAll();
  other.join();
  CHECK(other_locked);
  CHECK_FALSE(held.wanted());
  CHECK(held.empty());
}

TEST_CASE("TryLock takes every free stripe or none", "[key_locks]") {
  KeyLocks locks;
  KeyLocks::HeldSet held(&locks);
  REQUIRE(held.TryAdd(KeyLocks::StripeOf("mine")));
  {
    KeyLocks::Guard guard;
    // A stripe the caller's own set holds is skipped, not locked twice.
    REQUIRE(locks.TryLock({"mine", "x", "y"}, &held, &guard));
  }
  std::atomic<bool> done{false};
  std::atomic<bool> taken{false};
  std::thread other([&] {
    KeyLocks::Guard guard;
    taken = locks.TryLock({"x", "mine"}, nullptr, &guard);
    done = true;
  });
  other.join();
  CHECK(done);
  CHECK_FALSE(taken);  // "mine" is held here
  // Nothing was left locked by the failed attempt: "x" is free.
  KeyLocks::HeldSet probe(&locks);
  CHECK(probe.TryAdd(KeyLocks::StripeOf("x")));
}

// Two held sets gathering overlapping stripes in opposite orders, the way two
// I/O threads' write groups do, with a blocking Guard user besides: when a
// try fails the set releases everything and then waits. No deadlock, no lost
// increment.
TEST_CASE("held sets and guards on the same stripes never deadlock", "[key_locks]") {
  KeyLocks locks;
  int64_t counts[3] = {0, 0, 0};
  const std::string_view keys[3] = {"a", "b", "c"};
  constexpr int kRounds = 5'000;
  auto group = [&](bool reversed) {
    KeyLocks::HeldSet held(&locks);
    for (int i = 0; i < kRounds; ++i) {
      for (int j = 0; j < 3; ++j) {
        const int k = reversed ? 2 - j : j;
        const size_t stripe = KeyLocks::StripeOf(keys[k]);
        if (!held.TryAdd(stripe)) {
          held.ReleaseAll();
          held.Add(stripe);
        }
        ++counts[k];
      }
      if (i % 5 == 4 || held.wanted()) held.ReleaseAll();
    }
    held.ReleaseAll();
  };
  std::thread first(group, false);
  std::thread second(group, true);
  std::thread third([&] {
    for (int i = 0; i < kRounds; ++i) {
      auto guard = locks.Lock(std::vector<std::string_view>{"c", "a"});
      ++counts[0];
      ++counts[2];
    }
  });
  first.join();
  second.join();
  third.join();
  CHECK(counts[0] == 3 * kRounds);
  CHECK(counts[1] == 2 * kRounds);
  CHECK(counts[2] == 3 * kRounds);
}
