// Atomicity under threads. Catch assertions run only on the main thread;
// workers count what went wrong and the test checks the counts afterwards.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "keyspace_fixture.h"
#include "tests/unit/numbered.h"

using namespace tally::storage;
using tally::storage::testing::CheckStoreInvariants;
using tally::storage::testing::ReadStore;
using tally::storage::testing::TestKeyspace;
using tally::testing::Numbered;

TEST_CASE("concurrent INCRBY on one key loses no increment", "[keyspace][concurrency]") {
  TestKeyspace ks;
  constexpr int kThreads = 8;
  constexpr int kIncrements = 10'000;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIncrements; ++i) {
        int64_t result = 0;
        if (!ks->IncrBy("hits", 1, &result).ok()) ++errors;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(errors == 0);
  CHECK(ks.Get("hits") == "80000");
  CHECK(ks->Size() == 1);
}

TEST_CASE("MSET is atomic: readers never see half of it", "[keyspace][concurrency]") {
  TestKeyspace ks;
  const std::vector<std::string> keys = {"a", "b", "c", "d", "e", "f", "g", "h"};
  std::vector<std::string_view> views(keys.begin(), keys.end());
  auto pairs_of = [&](std::string_view value) {
    std::vector<std::pair<std::string_view, std::string_view>> pairs;
    for (std::string_view key : views) pairs.emplace_back(key, value);
    return pairs;
  };
  REQUIRE_OK(ks->MSet(pairs_of("0")));

  std::atomic<bool> done{false};
  std::atomic<int> errors{0};
  std::thread writer([&] {
    for (int i = 1; i <= 5000; ++i) {
      const std::string value = std::to_string(i);
      if (!ks->MSet(pairs_of(value)).ok()) ++errors;
    }
    done = true;
  });
  int torn = 0;
  int reads = 0;
  while (!done) {
    std::vector<std::optional<std::string>> values;
    REQUIRE_OK(ks->MGet(views, &values));
    ++reads;
    for (const auto& value : values) {
      if (value != values.front()) ++torn;
    }
  }
  writer.join();
  CHECK(errors == 0);
  CHECK(torn == 0);
  CHECK(reads > 0);
  CHECK(ks.Get("h") == "5000");
}

// Writers race on a small set of keys with every kind of write; afterwards
// the counts must match the keys really stored, in memory and on disk.
TEST_CASE("counts stay exact under concurrent writes", "[keyspace][concurrency]") {
  TestKeyspace ks;
  constexpr int kThreads = 6;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 3000; ++i) {
        const std::string key = Numbered("k", (i * 31 + t * 7) % 40);
        const std::string other = Numbered("k", (i * 17 + t) % 40);
        const int64_t now = ks->NowMs();
        int64_t number = 0;
        bool applied = false;
        SetResult set_result;
        SetOptions with_ttl;
        with_ttl.expire_at_ms = now + 60'000;
        Status status;
        switch ((i + t) % 6) {
          case 0:
            status = ks->IncrBy(key, 1, &number);
            break;
          case 1:
            status = ks->Set(key, "5", with_ttl, &set_result);
            break;
          case 2:
            status = ks->Del({key, other}, &number);
            break;
          case 3:
            status = ks->MSet({{key, "1"}, {other, "2"}});
            break;
          case 4:
            status = ks->ExpireAt(key, now + 1000, ExpireCondition{}, &applied);
            break;
          case 5:
            status = ks->Persist(other, &applied);
            break;
        }
        if (!status.ok()) ++errors;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(errors == 0);

  const size_t live = ks.Keys("*").size();
  CHECK(ks->Size() == live);
  const uint64_t expiring = ks->ExpiringSize();
  ks.Close();
  const auto contents = ReadStore(ks.options.dir);
  CheckStoreInvariants(contents);
  CHECK(contents.data.size() == live);
  CHECK(static_cast<uint64_t>(contents.expiring_count) == expiring);
}

// Values only grow, so a reader that reads the keys one after another must
// never see a later key older than an earlier one: that would be half of one
// write seen. The keys are cached (their GETs fill the counter cache), so the
// reads take the cache's path while the commits update it.
TEST_CASE("a reader of cached keys never sees half of a multi-key write",
          "[keyspace][concurrency][cache]") {
  TestKeyspace ks;
  constexpr int kKeys = 50;
  constexpr int kWrites = 1500;
  std::vector<std::string> keys;
  for (int i = 0; i < kKeys; ++i) keys.push_back(tally::testing::Numbered("k", i));
  std::vector<std::string> values;
  for (int i = 0; i <= kWrites; ++i) values.push_back(std::to_string(i));
  auto pairs_of = [&](int write) {
    std::vector<std::pair<std::string_view, std::string_view>> pairs;
    for (const auto& key : keys) pairs.emplace_back(key, values[write]);
    return pairs;
  };
  REQUIRE_OK(ks->MSet(pairs_of(0)));
  for (const auto& key : keys) ks.Get(key);  // fills the cache
  int64_t result = 0;
  REQUIRE_OK(ks->IncrBy("c", 1, &result));
  std::atomic<bool> done{false};
  std::atomic<int> torn{0};
  std::atomic<int> backwards{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      while (!done.load()) {
        int64_t previous = -1;
        for (const auto& key : keys) {
          std::string value;
          if (!ks->Get(key, &value).ok()) {
            ++errors;
            continue;
          }
          const int64_t now = std::stoll(value);
          if (now < previous) ++torn;
          previous = now;
        }
        // MGET (one snapshot) and then GET of the same counter: the second
        // read is later, so it must not show an older value.
        std::vector<std::optional<std::string>> mget;
        std::string later;
        if (!ks->MGet({"c", "x"}, &mget).ok() || !ks->Get("c", &later).ok()) {
          ++errors;
          continue;
        }
        if (mget[0] && std::stoll(later) < std::stoll(*mget[0])) ++backwards;
      }
    });
  }
  for (int i = 1; i <= kWrites; ++i) {
    REQUIRE_OK(ks->MSet(pairs_of(i)));
    // A multi-key write of the counter: MSET only refreshes cached keys.
    const std::string next = std::to_string(result + i);
    REQUIRE_OK(ks->MSet({{"c", next}, {"y", next}}));
  }
  done = true;
  for (auto& reader : readers) reader.join();
  CHECK(errors == 0);
  CHECK(torn == 0);
  CHECK(backwards == 0);
}
