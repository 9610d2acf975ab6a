// The counter cache on its own (tickets, eviction, bound) and in front of a
// real keyspace: after every write path, a read through the cache shows what
// RocksDB holds, checked against a keyspace with the cache off.
#include <memory>
#include <random>
#include <string>
#include <thread>

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include "keyspace_fixture.h"
#include "storage/counter_cache.h"
#include "tests/durability/sync_tracking_fs.h"
#include "tests/unit/numbered.h"

using namespace tally::storage;
using tally::storage::testing::FailingDiskKeyspace;
using tally::storage::testing::TestKeyspace;
using tally::testing::Numbered;

namespace {

int64_t CachedInt(CounterCache& cache, std::string_view key) {
  std::optional<StoredValue> value;
  uint64_t ticket = 0;
  REQUIRE(cache.Lookup(key, &value, &ticket));
  return value->int_value;
}

bool Cached(CounterCache& cache, std::string_view key) {
  std::optional<StoredValue> value;
  uint64_t ticket = 0;
  return cache.Lookup(key, &value, &ticket);
}

}  // namespace

TEST_CASE("counter cache: put, lookup, erase, clear", "[counter_cache]") {
  CounterCache cache(1 << 20);
  cache.Put("a", MakeInt(5, 0));
  cache.Put("b", MakeString("text", 1234));
  CHECK(CachedInt(cache, "a") == 5);
  std::optional<StoredValue> value;
  uint64_t ticket = 0;
  REQUIRE(cache.Lookup("b", &value, &ticket));
  CHECK(value->Text() == "text");
  CHECK(value->expire_at_ms == 1234);
  cache.Put("a", MakeInt(6, 0));
  CHECK(CachedInt(cache, "a") == 6);
  cache.Erase("a");
  CHECK_FALSE(Cached(cache, "a"));
  cache.Clear();
  CHECK_FALSE(Cached(cache, "b"));
  const CounterCacheStats stats = cache.stats();
  CHECK(stats.entries == 0);
  CHECK(stats.bytes == 0);
  CHECK(stats.hits == 3);
  CHECK(stats.misses == 2);
}

TEST_CASE("counter cache: a fill after a write to the shard is dropped", "[counter_cache]") {
  CounterCache cache(1 << 20);
  std::optional<StoredValue> value;
  uint64_t ticket = 0;
  REQUIRE_FALSE(cache.Lookup("k", &value, &ticket));
  // A writer replaces the value the reader is about to fill with.
  cache.Put("k", MakeInt(2, 0));
  cache.Fill("k", MakeInt(1, 0), ticket);
  CHECK(CachedInt(cache, "k") == 2);

  // The same after an erase (DEL) and a clear (FLUSH).
  cache.Erase("k");
  REQUIRE_FALSE(cache.Lookup("k", &value, &ticket));
  cache.Erase("k");
  cache.Fill("k", MakeInt(1, 0), ticket);
  CHECK_FALSE(Cached(cache, "k"));
  REQUIRE_FALSE(cache.Lookup("k", &value, &ticket));
  cache.Clear();
  cache.Fill("k", MakeInt(1, 0), ticket);
  CHECK_FALSE(Cached(cache, "k"));

  // Nothing in between: the fill is taken.
  REQUIRE_FALSE(cache.Lookup("k", &value, &ticket));
  cache.Fill("k", MakeInt(3, 0), ticket);
  CHECK(CachedInt(cache, "k") == 3);
}

TEST_CASE("counter cache: Update refreshes cached keys only", "[counter_cache]") {
  CounterCache cache(1 << 20);
  cache.Put("cached", MakeInt(1, 0));
  cache.Update("cached", MakeInt(2, 0));
  cache.Update("other", MakeInt(2, 0));
  CHECK(CachedInt(cache, "cached") == 2);
  CHECK_FALSE(Cached(cache, "other"));
  // It still voids a reader's ticket: the value it read may be the old one.
  std::optional<StoredValue> value;
  uint64_t ticket = 0;
  REQUIRE_FALSE(cache.Lookup("other", &value, &ticket));
  cache.Update("other", MakeInt(3, 0));
  cache.Fill("other", MakeInt(2, 0), ticket);
  CHECK_FALSE(Cached(cache, "other"));
}

TEST_CASE("counter cache: a bulk MSET does not fill the cache", "[counter_cache]") {
  TestKeyspace ks;
  int64_t result = 0;
  REQUIRE_OK(ks->IncrBy("hot", 1, &result));
  std::vector<std::string> keys;
  for (int i = 0; i < 1000; ++i) keys.push_back(Numbered("bulk:", i));
  std::vector<std::pair<std::string_view, std::string_view>> pairs;
  for (const std::string& key : keys) pairs.emplace_back(key, "7");
  pairs.emplace_back("hot", "5");
  REQUIRE_OK(ks->MSet(pairs));
  CHECK(ks->counter_cache_stats().entries == 1);  // only "hot", refreshed
  CHECK(ks.Get("hot") == "5");
  CHECK(ks.Get("bulk:999") == "7");  // a read fills it
  CHECK(ks->counter_cache_stats().entries == 2);
}

TEST_CASE("counter cache: long values are not cached", "[counter_cache]") {
  CounterCache cache(1 << 20);
  cache.Put("k", MakeString("short", 0));
  cache.Put("k", MakeString(std::string(CounterCache::kMaxValueBytes + 1, 'x'), 0));
  CHECK_FALSE(Cached(cache, "k"));
}

TEST_CASE("counter cache: memory stays within the capacity, oldest out first", "[counter_cache]") {
  constexpr size_t kCapacity = 256 * 1024;
  CounterCache cache(kCapacity);
  // Keys long enough to live on the heap, so their text is charged too.
  auto key = [](int i) { return Numbered("counter:with:a:long:name:", i); };
  cache.Put(key(0), MakeInt(0, 0));
  for (int i = 1; i < 20'000; ++i) {
    cache.Put(key(i), MakeInt(i, 0));
    CHECK(Cached(cache, key(0)));  // used all the time: never the oldest.
    REQUIRE(cache.stats().bytes <= kCapacity);
  }
  const CounterCacheStats stats = cache.stats();
  CHECK(stats.bytes <= kCapacity);
  // Within a shard the budget is used up before anything leaves.
  CHECK(stats.entries * CounterCache::ChargeOf(key(10'000), MakeInt(0, 0)) >= kCapacity * 8 / 10);
  CHECK(stats.entries < 20'000);
  CHECK_FALSE(Cached(cache, key(1)));  // the oldest went first.
  CHECK(CachedInt(cache, key(19'999)) == 19'999);
}

TEST_CASE("counter cache: capacity 0 caches nothing", "[counter_cache]") {
  CounterCache cache(0);
  cache.Put("k", MakeInt(1, 0));
  CHECK_FALSE(Cached(cache, "k"));
  CHECK(cache.stats().entries == 0);
}

// --- In front of a keyspace ----------------------------------------------------

namespace {

// Two keyspaces fed the same operations: one with a small cache (so entries
// are evicted too), one without. Every read must agree.
struct CachedAndUncached {
  CachedAndUncached() {
    uncached.Close();
    uncached.options.counter_cache_bytes = 0;
    uncached.Open();
    cached.Close();
    cached.options.counter_cache_bytes = 64 * 1024;
    cached.Open();
  }
  template <typename F>
  void Both(F f) {
    f(cached);
    f(uncached);
  }
  void Advance(int64_t ms) {
    cached.Advance(ms);
    uncached.Advance(ms);
  }
  // Reads every key of `keys` both ways (single GET, MGET, TTL, EXISTS,
  // DBSIZE) and requires equal answers.
  void Agree(const std::vector<std::string>& keys) {
    for (const std::string& key : keys) {
      std::string a, b;
      const Code ca = cached->Get(key, &a).code();
      const Code cb = uncached->Get(key, &b).code();
      INFO("key " << key);
      REQUIRE(ca == cb);
      if (ca == Code::kOk) REQUIRE(a == b);
      REQUIRE(cached->TtlMs(key) == uncached->TtlMs(key));
    }
    const std::vector<std::string_view> views(keys.begin(), keys.end());
    std::vector<std::optional<std::string>> a, b;
    REQUIRE_OK(cached->MGet(views, &a));
    REQUIRE_OK(uncached->MGet(views, &b));
    REQUIRE(a == b);
    REQUIRE(cached->Exists(views) == uncached->Exists(views));
    REQUIRE(cached->Size() == uncached->Size());
    REQUIRE(cached->ExpiringSize() == uncached->ExpiringSize());
  }

  TestKeyspace cached;
  TestKeyspace uncached;
};

}  // namespace

TEST_CASE("counter cache: every write path keeps reads equal to RocksDB's", "[counter_cache]") {
  CachedAndUncached ks;
  const std::vector<std::string> keys = {"a", "b", "c", "f", "n"};
  auto incr = [](std::string_view key, int64_t by) {
    return [=](TestKeyspace& k) {
      int64_t result = 0;
      k->IncrBy(key, by, &result);
    };
  };
  auto set = [](std::string_view key, std::string_view value, SetOptions options = {}) {
    return [=](TestKeyspace& k) {
      SetResult result;
      REQUIRE_OK(k->Set(key, value, options, &result));
    };
  };

  // Warm the cache with every key, then change each through one path.
  ks.Both(incr("a", 10));
  ks.Both(set("b", "hello"));
  ks.Both(incr("c", 1));
  ks.Agree(keys);
  ks.Agree(keys);  // the second time from the cache.
  CHECK(ks.cached->counter_cache_stats().hits > 0);

  SECTION("INCRBY, INCRBYFLOAT") {
    ks.Both(incr("a", -3));
    ks.Both([](TestKeyspace& k) {
      std::string result;
      REQUIRE_OK(k->IncrByFloat("f", 1.5L, &result));
      REQUIRE_OK(k->IncrByFloat("a", 0.25L, &result));
    });
    ks.Agree(keys);
    ks.Both(incr("a", 1));  // not an integer any more: refused, nothing written.
    ks.Agree(keys);
  }
  SECTION("SET variants: NX, XX, GET, KEEPTTL, born expired") {
    SetOptions nx;
    nx.condition = SetCondition::kIfMissing;
    SetOptions xx;
    xx.condition = SetCondition::kIfExists;
    SetOptions ttl;
    ttl.expire_at_ms = ks.cached.now_ms + 5'000;
    SetOptions keep;
    keep.keep_ttl = true;
    keep.get_old = true;
    SetOptions past;
    past.expire_at_ms = ks.cached.now_ms - 1;
    ks.Both(set("a", "x", nx));
    ks.Both(set("n", "new", xx));
    ks.Both(set("b", "42", ttl));
    ks.Agree(keys);
    ks.Both(set("b", "43", keep));
    ks.Both(set("c", "gone", past));
    ks.Agree(keys);
    ks.Advance(5'000);
    ks.Agree(keys);  // lazy expiry of b
  }
  SECTION("MSET, MSETNX, GETDEL, DEL") {
    ks.Both([](TestKeyspace& k) {
      REQUIRE_OK(k->MSet({{"a", "1"}, {"n", "2"}, {"a", "3"}}));
      bool applied = true;
      REQUIRE_OK(k->MSetNx({{"f", "1"}, {"b", "2"}}, &applied));
      REQUIRE_FALSE(applied);
      std::string value;
      REQUIRE_OK(k->GetDel("b", &value));
    });
    ks.Agree(keys);
    ks.Both([](TestKeyspace& k) { k.Del({"a", "c", "zz"}); });
    ks.Agree(keys);
    ks.Both(incr("a", 1));  // from nothing again.
    ks.Agree(keys);
  }
  SECTION("EXPIRE family and PERSIST") {
    ks.Both([&](TestKeyspace& k) {
      bool applied = false;
      REQUIRE_OK(k->ExpireAt("a", k.now_ms + 1'000, {}, &applied));
      REQUIRE_OK(k->ExpireAt("b", k.now_ms + 1'000, {}, &applied));
      REQUIRE_OK(k->Persist("b", &applied));
      ExpireCondition gt;
      gt.gt = true;
      REQUIRE_OK(k->ExpireAt("a", k.now_ms + 9'000, gt, &applied));
      REQUIRE_OK(k->ExpireAt("c", k.now_ms - 1, {}, &applied));  // a past time deletes.
    });
    ks.Agree(keys);
    ks.Advance(9'000);
    ks.Agree(keys);         // a expired lazily
    ks.Both(incr("a", 1));  // an expired counter starts again from 0.
    ks.Agree(keys);
  }
  SECTION("FLUSH") {
    ks.Both([](TestKeyspace& k) { REQUIRE_OK(k->Flush()); });
    ks.Agree(keys);
    ks.Both(incr("a", 1));
    ks.Agree(keys);
  }
  SECTION("MULTI/EXEC (Atomically), with and without FLUSH") {
    ks.Both([&](TestKeyspace& k) {
      std::vector<std::string_view> locked = {"a", "b", "n"};
      REQUIRE_OK(k->Atomically(locked, false, [&] {
        int64_t result = 0;
        REQUIRE_OK(k->IncrBy("a", 5, &result));
        REQUIRE_OK(k->IncrBy("a", 5, &result));
        int64_t deleted = 0;
        REQUIRE_OK(k->Del({"b"}, &deleted));
        SetResult set;
        REQUIRE_OK(k->Set("n", "7", {}, &set));
      }));
    });
    ks.Agree(keys);
    ks.Both([&](TestKeyspace& k) {
      REQUIRE_OK(k->Atomically({}, true, [&] {
        int64_t result = 0;
        REQUIRE_OK(k->IncrBy("c", 5, &result));
        REQUIRE_OK(k->Flush());
        REQUIRE_OK(k->IncrBy("f", 2, &result));
      }));
    });
    ks.Agree(keys);
    // A transaction abandoned by an error writes nothing; the cache must
    // still show the values from before it.
    ks.Both([&](TestKeyspace& k) {
      std::vector<std::string_view> locked = {"f"};
      const Status status = k->Atomically(locked, false, [&] {
        int64_t result = 0;
        REQUIRE_OK(k->IncrBy("f", 5, &result));
        CHECK(k->IncrBy("not-locked", 1, &result).code() == Code::kIoError);
      });
      REQUIRE(status.code() == Code::kIoError);
    });
    ks.Agree(keys);
  }
}

TEST_CASE("counter cache: the reaper's deletions reach the cache", "[counter_cache]") {
  TestKeyspace ks(/*reaper_interval_ms=*/5);
  ks.SetWithExpiry("t", "5", 100);
  CHECK(ks.Get("t") == "5");  // cached
  ks.Advance(100);
  // Bounded wait for the reaper to delete it physically (DBSIZE drops).
  for (int i = 0; i < 2'000 && ks->Size() != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  REQUIRE(ks->Size() == 0);
  // Back to before the expiry: RocksDB no longer has the key, so neither
  // may the cache (a stale entry would now look live).
  ks.now_ms -= 100;
  CHECK(ks.Missing("t"));
  int64_t result = 0;
  REQUIRE_OK(ks->IncrBy("t", 1, &result));
  CHECK(result == 1);
}

TEST_CASE("counter cache: a write that failed on disk leaves the old value", "[counter_cache]") {
  FailingDiskKeyspace keyspace;
  int64_t result = 0;
  REQUIRE_OK(keyspace->IncrBy("k", 1, &result));
  std::string value;
  REQUIRE_OK(keyspace->Get("k", &value));  // cached
  REQUIRE(value == "1");

  keyspace.FailWrites();
  const Status failed = keyspace->IncrBy("k", 1, &result);
  CHECK(failed.code() == Code::kDiskError);
  REQUIRE_OK(keyspace->Get("k", &value));
  CHECK(value == "1");
  CHECK(keyspace->IncrBy("k", 1, &result).code() == Code::kDiskError);
  REQUIRE_OK(keyspace->Get("k", &value));
  CHECK(value == "1");

  // Once the disk takes writes again (bounded wait), counting resumes from 1.
  keyspace.HealWrites();
  Status status;
  for (int i = 0; i < 200; ++i) {
    status = keyspace->IncrBy("k", 1, &result);
    if (status.ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE_OK(status);
  CHECK(result == 2);
}

TEST_CASE("counter cache: concurrent INCR and GET never see a lost or future value",
          "[counter_cache]") {
  TestKeyspace ks;
  ks.Close();
  ks.options.counter_cache_bytes = 16 * 1024;  // small: evictions and refills race too.
  ks.Open();
  constexpr int kThreads = 4;
  constexpr int kPerThread = 2'000;
  constexpr int kKeys = 50;
  std::vector<std::thread> threads;
  std::atomic<bool> bad{false};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 random(t);
      for (int i = 0; i < kPerThread; ++i) {
        const std::string key = Numbered("k", random() % kKeys);
        int64_t result = 0;
        if (!ks->IncrBy(key, 1, &result).ok()) bad = true;
        std::string value;
        // Monotonic: a later read of the key never shows less than what
        // this thread's own increment returned.
        if (!ks->Get(key, &value).ok() || std::stoll(value) < result) bad = true;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK_FALSE(bad);
  int64_t total = 0;
  for (int k = 0; k < kKeys; ++k) {
    const std::string key = Numbered("k", k);
    if (!ks.Missing(key)) total += std::stoll(ks.Get(key));
  }
  CHECK(total == kThreads * kPerThread);
  ks.Reopen();  // and RocksDB agrees
  int64_t stored = 0;
  for (int k = 0; k < kKeys; ++k) {
    const std::string key = Numbered("k", k);
    if (!ks.Missing(key)) stored += std::stoll(ks.Get(key));
  }
  CHECK(stored == kThreads * kPerThread);
}

TEST_CASE("counter cache: absent keys are cached until a write", "[counter_cache]") {
  TestKeyspace ks;
  CHECK(ks.Missing("gone"));  // RocksDB says nothing is stored: cached as absent
  std::vector<std::optional<std::string>> values;
  CounterCacheStats before = ks->counter_cache_stats();
  CHECK(ks.Missing("gone"));
  CHECK(ks->counter_cache_stats().hits == before.hits + 1);
  // Every kind of write replaces the negative entry.
  SECTION("INCR") {
    int64_t result = 0;
    REQUIRE_OK(ks->IncrBy("gone", 4, &result));
    CHECK(ks.Get("gone") == "4");
  }
  SECTION("MSET (which only refreshes cached keys)") {
    REQUIRE_OK(ks->MSet({{"gone", "x"}, {"other", "y"}}));
    CHECK(ks.Get("gone") == "x");
  }
  SECTION("a transaction") {
    std::vector<std::string_view> locked = {"gone"};
    REQUIRE_OK(ks->Atomically(locked, false, [&] { ks.Set("gone", "t"); }));
    CHECK(ks.Get("gone") == "t");
  }
}
