// TTLs: lazy expiry, EXPIRE's conditions, PERSIST and the reaper.
#include <chrono>
#include <string>
#include <thread>

#include "keyspace_fixture.h"
#include "tests/unit/numbered.h"

using namespace tally::storage;
using tally::storage::testing::kStartMs;
using tally::storage::testing::TestKeyspace;
using tally::testing::Numbered;

namespace {

bool MustExpireAt(TestKeyspace& ks, std::string_view key, int64_t at_ms,
                  ExpireCondition condition = {}) {
  bool applied = false;
  REQUIRE_OK(ks->ExpireAt(key, at_ms, condition, &applied));
  return applied;
}

// Polls (bounded) until the reaper has brought the key count to `keys`.
bool WaitForSize(TestKeyspace& ks, uint64_t keys) {
  for (int i = 0; i < 1000 && ks->Size() != keys; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return ks->Size() == keys;
}

}  // namespace

TEST_CASE("an expired key is invisible at once but counted until reaped", "[keyspace][expiry]") {
  TestKeyspace ks;
  ks.SetWithExpiry("k", "v", 1000);
  CHECK(ks->TtlMs("k") == 1000);
  CHECK(ks->ExpireAtMs("k") == kStartMs + 1000);

  ks.Advance(999);
  CHECK(ks.Get("k") == "v");
  CHECK(ks->TtlMs("k") == 1);

  ks.Advance(1);
  CHECK(ks.Missing("k"));
  CHECK(ks->TtlMs("k") == -2);
  CHECK(ks->ExpireAtMs("k") == -2);
  CHECK(ks->Exists({"k"}) == 0);
  CHECK(ks->Type("k") == KeyType::kNone);
  int64_t length = -1;
  REQUIRE_OK(ks->Strlen("k", &length));
  CHECK(length == 0);
  // As in Redis, DBSIZE still counts it: nothing has deleted it yet.
  CHECK(ks->Size() == 1);
  CHECK(ks->ExpiringSize() == 1);
}

TEST_CASE("writes treat an expired key as missing and replace it", "[keyspace][expiry]") {
  TestKeyspace ks;
  ks.SetWithExpiry("c", "41", 10);
  ks.Advance(10);

  SECTION("INCRBY starts from zero without a TTL") {
    int64_t result = 0;
    REQUIRE_OK(ks->IncrBy("c", 1, &result));
    CHECK(result == 1);
    CHECK(ks->TtlMs("c") == -1);
  }
  SECTION("SET NX succeeds and GET finds no old value") {
    SetOptions options;
    options.condition = SetCondition::kIfMissing;
    options.get_old = true;
    SetResult result;
    REQUIRE_OK(ks->Set("c", "new", options, &result));
    CHECK(result.applied);
    CHECK_FALSE(result.old_value.has_value());
  }
  SECTION("DEL removes it but does not count it") {
    CHECK(ks.Del({"c"}) == 0);
    CHECK(ks->Size() == 0);
  }
  SECTION("EXPIRE and PERSIST do not revive it") {
    bool applied = true;
    REQUIRE_OK(ks->Persist("c", &applied));
    CHECK_FALSE(applied);
    CHECK_FALSE(MustExpireAt(ks, "c", ks->NowMs() + 1000));
    CHECK(ks.Missing("c"));
  }
  SECTION("GETDEL finds nothing") {
    std::string value;
    CHECK(ks->GetDel("c", &value).code() == Code::kNotFound);
  }
  // Whatever happened, the counts on disk agree with the ones in memory.
  const uint64_t size = ks->Size();
  const uint64_t expiring = ks->ExpiringSize();
  ks.Reopen();
  CHECK(ks->Size() == size);
  CHECK(ks->ExpiringSize() == expiring);
}

TEST_CASE("SET clears the TTL unless KEEPTTL", "[keyspace][expiry]") {
  TestKeyspace ks;
  ks.SetWithExpiry("k", "1", 5000);
  SetOptions keep;
  keep.keep_ttl = true;
  ks.Set("k", "2", keep);
  CHECK(ks->TtlMs("k") == 5000);
  ks.Set("k", "3");
  CHECK(ks->TtlMs("k") == -1);
  CHECK(ks->ExpiringSize() == 0);

  ks.SetWithExpiry("k", "4", 7000);
  CHECK(ks->TtlMs("k") == 7000);
  CHECK(ks->ExpiringSize() == 1);
}

TEST_CASE("SET with an expiry already past leaves no key", "[keyspace][expiry]") {
  TestKeyspace ks;
  ks.Set("k", "old");
  SetOptions past;
  past.expire_at_ms = ks->NowMs();
  past.get_old = true;
  SetResult result;
  REQUIRE_OK(ks->Set("k", "new", past, &result));
  CHECK(result.applied);
  CHECK(result.old_value == "old");
  CHECK(ks.Missing("k"));
  CHECK(ks->Size() == 0);
}

TEST_CASE("EXPIRE with a time not in the future deletes the key", "[keyspace][expiry]") {
  TestKeyspace ks;
  ks.Set("k", "v");
  CHECK(MustExpireAt(ks, "k", ks->NowMs()));
  CHECK(ks.Missing("k"));
  CHECK(ks->Size() == 0);
  CHECK_FALSE(MustExpireAt(ks, "k", ks->NowMs() + 1000));  // missing now.
}

TEST_CASE("EXPIRE's NX, XX, GT and LT conditions", "[keyspace][expiry]") {
  TestKeyspace ks;
  const int64_t now = ks->NowMs();
  ks.Set("plain", "v");                // no expiry: an infinite TTL for GT/LT.
  ks.SetWithExpiry("ttl", "v", 1000);  // expires at now + 1000.

  CHECK(MustExpireAt(ks, "plain", now + 500, ExpireCondition{.nx = true}));
  CHECK(MustExpireAt(ks, "plain", now + 600, ExpireCondition{.xx = true}));
  CHECK(ks->ExpireAtMs("plain") == now + 600);
  bool applied = false;
  REQUIRE_OK(ks->Persist("plain", &applied));
  REQUIRE(applied);

  CHECK_FALSE(MustExpireAt(ks, "ttl", now + 500, ExpireCondition{.nx = true}));
  CHECK_FALSE(MustExpireAt(ks, "plain", now + 500, ExpireCondition{.xx = true}));
  CHECK(ks->TtlMs("plain") == -1);

  CHECK_FALSE(MustExpireAt(ks, "plain", now + 500, ExpireCondition{.gt = true}));
  CHECK_FALSE(
      MustExpireAt(ks, "ttl", now + 1000, ExpireCondition{.gt = true}));  // equal is not greater.
  CHECK(MustExpireAt(ks, "ttl", now + 2000, ExpireCondition{.gt = true}));
  CHECK(ks->ExpireAtMs("ttl") == now + 2000);

  CHECK_FALSE(MustExpireAt(ks, "ttl", now + 3000, ExpireCondition{.lt = true}));
  CHECK(MustExpireAt(ks, "ttl", now + 1500, ExpireCondition{.lt = true}));
  CHECK(ks->ExpireAtMs("ttl") == now + 1500);
  CHECK(MustExpireAt(ks, "plain", now + 9000, ExpireCondition{.lt = true}));
  CHECK(ks->ExpireAtMs("plain") == now + 9000);

  // The condition is checked before a past time deletes the key, as in Redis.
  CHECK_FALSE(MustExpireAt(ks, "ttl", now - 1, ExpireCondition{.nx = true}));
  CHECK(ks.Get("ttl") == "v");
  CHECK(MustExpireAt(ks, "ttl", now - 1, ExpireCondition{.lt = true}));
  CHECK(ks.Missing("ttl"));

  CHECK(ks->Size() == 1);
  CHECK(ks->ExpiringSize() == 1);
}

// Redis 7 lets XX combine with GT or LT; each option must hold, checked
// together under the key's lock.
TEST_CASE("EXPIRE's XX combined with GT or LT", "[keyspace][expiry]") {
  TestKeyspace ks;
  const int64_t now = ks->NowMs();
  ks.Set("plain", "v");
  ks.SetWithExpiry("ttl", "v", 1000);
  const ExpireCondition xx_lt{.xx = true, .lt = true};
  const ExpireCondition xx_gt{.xx = true, .gt = true};

  // LT alone holds for a key without expiry (infinite TTL); XX forbids it.
  CHECK_FALSE(MustExpireAt(ks, "plain", now + 500, xx_lt));
  CHECK(ks->TtlMs("plain") == -1);
  CHECK_FALSE(MustExpireAt(ks, "plain", now + 500, xx_gt));
  CHECK(ks->TtlMs("plain") == -1);

  CHECK_FALSE(MustExpireAt(ks, "ttl", now + 1500, xx_lt));
  CHECK(MustExpireAt(ks, "ttl", now + 800, xx_lt));
  CHECK(ks->ExpireAtMs("ttl") == now + 800);
  CHECK_FALSE(MustExpireAt(ks, "ttl", now + 700, xx_gt));
  CHECK(MustExpireAt(ks, "ttl", now + 900, xx_gt));
  CHECK(ks->ExpireAtMs("ttl") == now + 900);
  CHECK_FALSE(MustExpireAt(ks, "missing", now + 900, xx_lt));

  // A past time deletes the key only when the conditions hold.
  CHECK_FALSE(MustExpireAt(ks, "plain", now - 1, xx_lt));
  CHECK(ks.Get("plain") == "v");
  CHECK(MustExpireAt(ks, "ttl", now - 1, xx_lt));
  CHECK(ks.Missing("ttl"));
  CHECK(ks->Size() == 1);
  CHECK(ks->ExpiringSize() == 0);
}

TEST_CASE("PERSIST removes the TTL once", "[keyspace][expiry]") {
  TestKeyspace ks;
  ks.SetWithExpiry("k", "v", 1000);
  bool applied = false;
  REQUIRE_OK(ks->Persist("k", &applied));
  CHECK(applied);
  CHECK(ks->TtlMs("k") == -1);
  CHECK(ks->ExpiringSize() == 0);
  REQUIRE_OK(ks->Persist("k", &applied));
  CHECK_FALSE(applied);
  REQUIRE_OK(ks->Persist("missing", &applied));
  CHECK_FALSE(applied);
  ks.Advance(2000);
  CHECK(ks.Get("k") == "v");
}

TEST_CASE("the reaper deletes expired keys and the counts follow", "[keyspace][expiry]") {
  TestKeyspace ks(/*reaper_interval_ms=*/5);
  // More than one reaper chunk, so batching across chunks is exercised.
  for (int i = 0; i < 300; ++i) ks.SetWithExpiry(Numbered("short:", i), "v", 100);
  for (int i = 0; i < 20; ++i) ks.SetWithExpiry(Numbered("long:", i), "v", 100'000);
  ks.Set("forever", "v");
  REQUIRE(ks->Size() == 321);
  REQUIRE(ks->ExpiringSize() == 320);

  // Renewed just before the deadline: the reaper must not take it.
  bool applied = false;
  REQUIRE_OK(ks->ExpireAt("short:7", ks->NowMs() + 100'000, ExpireCondition{}, &applied));

  ks.Advance(100);
  REQUIRE(WaitForSize(ks, 22));
  CHECK(ks->ExpiringSize() == 21);
  CHECK(ks.Get("short:7") == "v");
  CHECK(ks.Keys("short:*") == std::vector<std::string>{"short:7"});

  ks.Advance(100'000);
  REQUIRE(WaitForSize(ks, 1));
  CHECK(ks->ExpiringSize() == 0);
  CHECK(ks.Keys("*") == std::vector<std::string>{"forever"});

  ks.Reopen();
  CHECK(ks->Size() == 1);
  CHECK(ks->ExpiringSize() == 0);
}

// The reaper reads the index without locks, then locks and re-checks each
// key: a key renewed in between must survive.
TEST_CASE("the reaper never deletes a key renewed after it expired", "[keyspace][expiry]") {
  TestKeyspace ks(/*reaper_interval_ms=*/1);
  constexpr int kKeys = 5000;
  for (int i = 0; i < kKeys; ++i) ks.SetWithExpiry(Numbered("k", i), "old", 10);
  ks.Advance(10);
  for (int i = 0; i < kKeys; ++i) ks.Set(Numbered("k", i), "new");
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a few more reaper rounds.
  CHECK(ks->Size() == kKeys);
  CHECK(ks->ExpiringSize() == 0);
  CHECK(ks.Keys("k*").size() == kKeys);
}
