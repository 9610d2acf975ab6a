// Group commit (Keyspace::GroupScope): pending writes, read-your-writes,
// commits early and on demand, failures, and two threads' groups contending
// for the same keys. Catch assertions run only on the main thread.
#include <atomic>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "keyspace_fixture.h"

using namespace tally::storage;
using tally::storage::testing::CheckStoreInvariants;
using tally::storage::testing::FailingDiskKeyspace;
using tally::storage::testing::ReadStore;
using tally::storage::testing::TestKeyspace;

namespace {

// Records every commit the keyspace reports.
struct RecordingListener : GroupListener {
  void OnGroupCommitted(const Status& status) override { statuses.push_back(status); }
  std::vector<Status> statuses;
};

// What another thread sees of `key` (GET's text, or "(nil)").
std::string SeenElsewhere(Keyspace& keyspace, std::string_view key) {
  std::string seen;
  std::thread reader([&] {
    std::string value;
    seen = keyspace.Get(key, &value).ok() ? value : "(nil)";
  });
  reader.join();
  return seen;
}

}  // namespace

TEST_CASE("group: writes are pending until the commit, then all visible", "[keyspace][group]") {
  TestKeyspace ks;
  RecordingListener listener;
  std::vector<std::string> observed;  // the keys the write observer heard of
  ks->SetWriteObserver([&](std::string_view key) { observed.emplace_back(key); });
  {
    Keyspace::GroupScope scope(*ks, listener);
    int64_t result = 0;
    REQUIRE_OK(ks->IncrBy("a", 1, &result));
    REQUIRE_OK(ks->IncrBy("a", 1, &result));
    CHECK(result == 2);  // read its own pending write
    SetOptions expiring;
    expiring.expire_at_ms = ks.now_ms + 10'000;
    SetResult set;
    REQUIRE_OK(ks->Set("b", "text", expiring, &set));
    CHECK(ks->TtlMs("b") == 10'000);
    int64_t deleted = 0;
    REQUIRE_OK(ks->IncrBy("c", 5, &result));
    REQUIRE_OK(ks->Del({"c", "missing"}, &deleted));
    CHECK(deleted == 1);
    std::vector<std::optional<std::string>> values;
    REQUIRE_OK(ks->MGet({"a", "b", "c"}, &values));
    CHECK(values == std::vector<std::optional<std::string>>{"2", "text", std::nullopt});

    CHECK(ks->GroupPending());
    CHECK(listener.statuses.empty());
    CHECK(observed.empty());
    CHECK(SeenElsewhere(*ks, "a") == "(nil)");
    CHECK(SeenElsewhere(*ks, "b") == "(nil)");
  }
  // Leaving the scope commits nothing: the caller decides when.
  CHECK(ks->GroupPending());
  CHECK(SeenElsewhere(*ks, "a") == "(nil)");
  REQUIRE_OK(ks->CommitGroup());
  CHECK_FALSE(ks->GroupPending());
  REQUIRE(listener.statuses.size() == 1);
  CHECK(listener.statuses[0].ok());
  CHECK(observed.size() == 3);  // each key the group wrote, once
  CHECK(std::set<std::string>(observed.begin(), observed.end()) ==
        std::set<std::string>{"a", "b", "c"});
  CHECK(SeenElsewhere(*ks, "a") == "2");
  CHECK(SeenElsewhere(*ks, "b") == "text");
  CHECK(ks->Size() == 2);
  CHECK(ks->ExpiringSize() == 1);
  REQUIRE_OK(ks->CommitGroup());  // nothing pending: no report
  CHECK(listener.statuses.size() == 1);
  ks.Close();
  CheckStoreInvariants(ReadStore(ks.options.dir));
}

TEST_CASE(
    "group: KEYS, SCAN and DBSIZE see the pending writes; a transaction and FLUSH commit "
    "the group first",
    "[keyspace][group]") {
  TestKeyspace ks;
  RecordingListener listener;
  Keyspace::GroupScope scope(*ks, listener);
  int64_t result = 0;
  SECTION("KEYS") {
    REQUIRE_OK(ks->IncrBy("usage:x", 1, &result));
    CHECK(ks.Keys("usage:*") == std::vector<std::string>{"usage:x"});
    CHECK(ks->GroupPending());
    REQUIRE_OK(ks->CommitGroup());
  }
  SECTION("SCAN") {
    REQUIRE_OK(ks->IncrBy("usage:x", 1, &result));
    ScanResult scan;
    REQUIRE_OK(ks->Scan(0, "*", 10, std::nullopt, &scan));
    CHECK(scan.keys == std::vector<std::string>{"usage:x"});
    CHECK(ks->GroupPending());
    REQUIRE_OK(ks->CommitGroup());
  }
  SECTION("DBSIZE") {
    REQUIRE_OK(ks->IncrBy("usage:x", 1, &result));
    CHECK(ks->Size() == 1);
    CHECK(ks->GroupPending());
    REQUIRE_OK(ks->CommitGroup());
  }
  SECTION("a transaction") {
    REQUIRE_OK(ks->IncrBy("usage:x", 1, &result));
    std::vector<std::string_view> locked = {"usage:x"};
    REQUIRE_OK(
        ks->Atomically(locked, false, [&] { REQUIRE_OK(ks->IncrBy("usage:x", 1, &result)); }));
    CHECK(result == 2);
  }
  SECTION("FLUSH") {
    REQUIRE_OK(ks->IncrBy("usage:x", 1, &result));
    REQUIRE_OK(ks->Flush());
    CHECK(ks->Size() == 0);
  }
  CHECK_FALSE(ks->GroupPending());
  REQUIRE(listener.statuses.size() == 1);
  CHECK(listener.statuses[0].ok());
}

TEST_CASE("group: a write outside the scope commits the thread's group first",
          "[keyspace][group]") {
  TestKeyspace ks;
  RecordingListener listener;
  int64_t result = 0;
  {
    Keyspace::GroupScope scope(*ks, listener);
    REQUIRE_OK(ks->IncrBy("k", 1, &result));
  }
  // Its key is locked by this thread's group: without the commit this would
  // wait forever.
  REQUIRE_OK(ks->IncrBy("k", 1, &result));
  CHECK(result == 2);
  CHECK(listener.statuses.size() == 1);
  CHECK_FALSE(ks->GroupPending());
}

TEST_CASE("group: another thread's write of a pending key waits for the commit",
          "[keyspace][group]") {
  TestKeyspace ks;
  RecordingListener listener;
  Keyspace::GroupScope scope(*ks, listener);
  int64_t result = 0;
  REQUIRE_OK(ks->IncrBy("k", 1, &result));
  std::atomic<bool> done{false};
  int64_t other = 0;
  std::thread writer([&] {
    int64_t value = 0;
    if (ks->IncrBy("k", 10, &value).ok()) other = value;
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK_FALSE(done);  // it holds no lock the group needs; it waits for "k"
  REQUIRE_OK(ks->CommitGroup());
  writer.join();
  CHECK(other == 11);
}

TEST_CASE("group: two threads' groups on the same keys never deadlock or lose a write",
          "[keyspace][group]") {
  TestKeyspace ks;
  constexpr int kRounds = 2'000;
  std::atomic<int> errors{0};
  auto run = [&](bool reversed) {
    RecordingListener listener;
    Keyspace::GroupScope scope(*ks, listener);
    const std::vector<std::string> keys = reversed ? std::vector<std::string>{"b", "a", "c"}
                                                   : std::vector<std::string>{"a", "b", "c"};
    for (int i = 0; i < kRounds; ++i) {
      for (const std::string& key : keys) {
        int64_t result = 0;
        if (!ks->IncrBy(key, 1, &result).ok()) ++errors;
      }
      // Commit now and then, as an I/O thread does after each turn.
      if (i % 7 == 6 && !ks->CommitGroup().ok()) ++errors;
    }
    if (!ks->CommitGroup().ok()) ++errors;
    for (const Status& status : listener.statuses) {
      if (!status.ok()) ++errors;
    }
  };
  std::thread first(run, false);
  std::thread second(run, true);
  first.join();
  second.join();
  CHECK(errors == 0);
  for (const char* key : {"a", "b", "c"}) CHECK(ks.Get(key) == std::to_string(2 * kRounds));
  ks.Close();
  CheckStoreInvariants(ReadStore(ks.options.dir));
}

TEST_CASE("group: a failed commit applies none of its writes", "[keyspace][group]") {
  FailingDiskKeyspace keyspace;
  RecordingListener listener;
  {
    Keyspace::GroupScope scope(*keyspace, listener);
    int64_t result = 0;
    REQUIRE_OK(keyspace->IncrBy("k", 1, &result));
    REQUIRE_OK(keyspace->CommitGroup());

    REQUIRE_OK(keyspace->IncrBy("k", 1, &result));
    REQUIRE_OK(keyspace->IncrBy("j", 1, &result));
    CHECK(result == 1);
    keyspace.FailWrites();
    CHECK(keyspace->CommitGroup().code() == Code::kDiskError);
    REQUIRE(listener.statuses.size() == 2);
    CHECK(listener.statuses[1].code() == Code::kDiskError);
    // Neither write happened, and the cache did not keep them.
    std::string value;
    REQUIRE_OK(keyspace->Get("k", &value));
    CHECK(value == "1");
    CHECK(keyspace->Get("j", &value).code() == Code::kNotFound);
    // While the disk is failing, writes are refused up front, as outside a group.
    CHECK(keyspace->IncrBy("k", 1, &result).code() == Code::kDiskError);
    CHECK_FALSE(keyspace->GroupPending());
  }
}

TEST_CASE("group: any mix of writes ends as it would without a group", "[keyspace][group]") {
  TestKeyspace plain;
  TestKeyspace grouped;
  RecordingListener listener;
  std::mt19937 random(7);
  const std::vector<std::string> keys = {"a", "b", "c", "d", "e"};
  auto apply = [&](TestKeyspace& ks, int op, const std::string& key, int64_t ttl) {
    int64_t result = 0;
    bool applied = false;
    SetResult set;
    SetOptions options;
    switch (op) {
      case 0:
        return ks->IncrBy(key, 3, &result).code();
      case 1:
        options.expire_at_ms = ks.now_ms + ttl;
        return ks->Set(key, "7", options, &set).code();
      case 2:
        return ks->ExpireAt(key, ks.now_ms + ttl, {}, &applied).code();
      case 3:
        return ks->Persist(key, &applied).code();
      case 4:
        return ks->Del({key, "a"}, &result).code();
      case 5:
        return ks->MSet({{key, "1"}, {"e", "2"}}).code();
      default:
        options.keep_ttl = true;
        return ks->Set(key, "9", options, &set).code();
    }
  };
  {
    Keyspace::GroupScope scope(*grouped, listener);
    for (int i = 0; i < 3'000; ++i) {
      const int op = static_cast<int>(random() % 7);
      const std::string& key = keys[random() % keys.size()];
      const int64_t ttl = 1 + static_cast<int64_t>(random() % 50);
      INFO("step " << i << " op " << op << " key " << key);
      REQUIRE(apply(plain, op, key, ttl) == apply(grouped, op, key, ttl));
      if (random() % 5 == 0) {
        plain.Advance(3);
        grouped.Advance(3);
      }
      if (random() % 9 == 0) REQUIRE_OK(grouped->CommitGroup());
    }
    REQUIRE_OK(grouped->CommitGroup());
  }
  for (const std::string& key : keys) {
    INFO(key);
    CHECK(plain->TtlMs(key) == grouped->TtlMs(key));
    CHECK(plain.Missing(key) == grouped.Missing(key));
    if (!plain.Missing(key)) CHECK(plain.Get(key) == grouped.Get(key));
  }
  CHECK(plain->Size() == grouped->Size());
  CHECK(plain->ExpiringSize() == grouped->ExpiringSize());
  plain.Close();
  grouped.Close();
  const auto expected = ReadStore(plain.options.dir);
  const auto actual = ReadStore(grouped.options.dir);
  CheckStoreInvariants(actual);
  CHECK(actual.data == expected.data);
}
