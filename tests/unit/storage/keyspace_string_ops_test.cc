// Keyspace::UpdateString: the read-modify-write behind APPEND, SETRANGE, the
// bitmap and HyperLogLog commands. Real RocksDB on a temp dir.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "keyspace_fixture.h"

using namespace tally::storage;
using tally::storage::testing::TestKeyspace;

namespace {

using Values = std::vector<std::optional<std::string>>;
using Expiries = std::vector<int64_t>;

StringUpdate Store(std::string value, int64_t expire_at_ms = StringUpdate::kKeepTtl) {
  StringUpdate u;
  u.action = StringUpdate::Action::kStore;
  u.value = std::move(value);
  u.expire_at_ms = expire_at_ms;
  return u;
}

std::string GetOr(TestKeyspace& ks, std::string_view key, std::string missing = "<missing>") {
  std::string value;
  Status s = ks->Get(key, &value);
  return s.code() == Code::kNotFound ? missing : value;
}

}  // namespace

TEST_CASE("UpdateString passes values and expiries, and stores keeping the TTL",
          "[keyspace][string_ops]") {
  TestKeyspace ks;
  ks.SetWithExpiry("a", "x", 10'000);
  ks.Set("n", "42");
  Values seen;
  Expiries seen_expiry;
  REQUIRE_OK(ks->UpdateString({"a", "n", "missing", "a"}, [&](const Values& v, const Expiries& e) {
    seen = v;
    seen_expiry = e;
    return Store(*v[0] + *v[1]);
  }));
  CHECK(seen == Values{"x", "42", std::nullopt, "x"});
  CHECK(seen_expiry == Expiries{ks.now_ms + 10'000, 0, 0, ks.now_ms + 10'000});
  CHECK(GetOr(ks, "a") == "x42");
  CHECK(ks->TtlMs("a") == 10'000);

  // An explicit expiry replaces it; 0 removes it.
  REQUIRE_OK(
      ks->UpdateString({"a"}, [](const Values& v, const Expiries&) { return Store(*v[0], 0); }));
  CHECK(ks->TtlMs("a") == -1);
  // Canonical integers are stored integer-encoded, so INCR keeps working.
  REQUIRE_OK(ks->UpdateString({"c"}, [](const Values&, const Expiries&) { return Store("7"); }));
  int64_t result = 0;
  REQUIRE_OK(ks->IncrBy("c", 1, &result));
  CHECK(result == 8);
}

TEST_CASE("UpdateString: kNone writes nothing, kDelete removes, expired keys are missing",
          "[keyspace][string_ops]") {
  TestKeyspace ks;
  std::vector<std::string> observed;
  ks->SetWriteObserver([&](std::string_view key) { observed.emplace_back(key); });
  ks.Set("k", "v");
  observed.clear();
  REQUIRE_OK(
      ks->UpdateString({"k"}, [](const Values&, const Expiries&) { return StringUpdate(); }));
  CHECK(observed.empty());
  CHECK(GetOr(ks, "k") == "v");

  StringUpdate del;
  del.action = StringUpdate::Action::kDelete;
  REQUIRE_OK(ks->UpdateString({"missing"}, [&](const Values&, const Expiries&) { return del; }));
  CHECK(observed.empty());
  REQUIRE_OK(ks->UpdateString({"k"}, [&](const Values&, const Expiries&) { return del; }));
  CHECK(observed == std::vector<std::string>{"k"});
  CHECK(ks->Size() == 0);

  ks.SetWithExpiry("e", "old", 100);
  ks.Advance(200);
  Values seen;
  REQUIRE_OK(ks->UpdateString({"e"}, [&](const Values& v, const Expiries&) {
    seen = v;
    return Store("new");
  }));
  CHECK(seen == Values{std::nullopt});
  CHECK(GetOr(ks, "e") == "new");
  CHECK(ks->TtlMs("e") == -1);  // an expired key's TTL is not kept
  CHECK(ks->Size() == 1);
  ks->SetWriteObserver(nullptr);
}

TEST_CASE("UpdateString survives a reopen and is atomic against concurrent updates",
          "[keyspace][string_ops]") {
  TestKeyspace ks;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 200;
  std::atomic<int> failures{0};  // Catch2's assertions are not thread-safe
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        Status s = ks->UpdateString({"log", "other"}, [](const Values& v, const Expiries&) {
          return Store(v[0].value_or("") + "x");
        });
        if (!s.ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures == 0);
  CHECK(GetOr(ks, "log").size() == static_cast<size_t>(kThreads * kPerThread));
  ks.Reopen();
  CHECK(GetOr(ks, "log").size() == static_cast<size_t>(kThreads * kPerThread));
  CHECK(GetOr(ks, "other") == "<missing>");
}

TEST_CASE("UpdateString inside Atomically sees and joins the transaction",
          "[keyspace][string_ops]") {
  TestKeyspace ks;
  Status inner;
  REQUIRE_OK(ks->Atomically({"a"}, false, [&] {
    ks.Set("a", "1");
    inner = ks->UpdateString({"a"},
                             [](const Values& v, const Expiries&) { return Store(*v[0] + "2"); });
  }));
  REQUIRE_OK(inner);
  CHECK(GetOr(ks, "a") == "12");
}
