// Keyspace::Atomically, the storage side of MULTI/EXEC: read-your-writes
// inside the body, one WriteBatch at the end (all or nothing, for other
// threads and across a crash), Redis's per-command errors, keys the
// transaction did not lock, FLUSH inside a transaction, and the reaper.
// Catch assertions run only on the main thread; workers count what went
// wrong and the test checks the counts afterwards.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <rocksdb/db.h>

#include "keyspace_fixture.h"

using namespace tally::storage;
using tally::storage::testing::CheckStoreInvariants;
using tally::storage::testing::ReadStore;
using tally::storage::testing::TempDir;
using tally::storage::testing::TestKeyspace;

namespace {

using Keys = std::vector<std::string_view>;

int64_t MustIncr(TestKeyspace& ks, std::string_view key, int64_t delta) {
  int64_t result = 0;
  REQUIRE_OK(ks->IncrBy(key, delta, &result));
  return result;
}

std::map<std::string, int> ScanAll(TestKeyspace& ks, std::string_view pattern, int64_t count) {
  std::map<std::string, int> seen;
  uint64_t cursor = 0;
  int steps = 0;
  do {
    ScanResult result;
    REQUIRE_OK(ks->Scan(cursor, pattern, count, std::nullopt, &result));
    for (const std::string& key : result.keys) ++seen[key];
    cursor = result.next_cursor;
    REQUIRE(++steps < 10'000);
  } while (cursor != 0);
  return seen;
}

// Stores `encoded` under `key` straight into the closed keyspace's data
// column family, bypassing the value codec: a way to plant an unreadable
// value (a real read error) for a transaction to trip over.
void PutRawValue(const std::string& dir, const std::string& key, const std::string& encoded) {
  rocksdb::ColumnFamilyOptions meta_options;
  meta_options.merge_operator = NewInt64AddOperator();
  const std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, {}},
      {layout::kExpiryFamily, {}},
      {layout::kMetaFamily, meta_options},
  };
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  REQUIRE(rocksdb::DB::Open(rocksdb::DBOptions(), dir, families, &handles, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  REQUIRE(db->Put(rocksdb::WriteOptions(), handles[0], key, encoded).ok());
  REQUIRE(
      db->Merge(rocksdb::WriteOptions(), handles[2], layout::kKeyCountKey, layout::EncodeInt64(1))
          .ok());
  for (rocksdb::ColumnFamilyHandle* handle : handles) {
    REQUIRE(db->DestroyColumnFamilyHandle(handle).ok());
  }
}

}  // namespace

TEST_CASE("operations inside Atomically see each other's writes", "[keyspace][transaction]") {
  TestKeyspace ks;
  ks.Set("old", "1");
  ks.Set("gone", "x");
  const uint64_t sequence_before = ks->syncer().VisibleSequence();

  int64_t counter = 0;
  std::string got;
  std::vector<std::optional<std::string>> values;
  int64_t exists = -1, ttl = 0, size_inside = -1, expiring_inside = -1, deleted = -1;
  std::vector<std::string> keys_inside;
  std::map<std::string, int> scanned;
  Status get_status, gone_status;
  KeyType type = KeyType::kNone;
  const Status commit = ks->Atomically({"n", "t", "gone"}, false, [&] {
    ks.Set("n", "10");
    counter = MustIncr(ks, "n", 5);
    get_status = ks->Get("n", &got);
    ks.SetWithExpiry("t", "v", 5000);
    ttl = ks->TtlMs("t");
    type = ks->Type("t");
    REQUIRE_OK(ks->Del({"gone"}, &deleted));
    gone_status = ks->Get("gone", &got);
    REQUIRE_OK(ks->Get("n", &got));
    REQUIRE_OK(ks->MGet({"n", "old", "gone", "t"}, &values));
    exists = ks->Exists({"n", "t", "gone", "old"});
    keys_inside = ks.Keys("*");
    scanned = ScanAll(ks, "*", 1);
    size_inside = static_cast<int64_t>(ks->Size());
    expiring_inside = static_cast<int64_t>(ks->ExpiringSize());
  });
  REQUIRE_OK(commit);

  CHECK(counter == 15);
  REQUIRE_OK(get_status);
  CHECK(got == "15");
  CHECK(ttl == 5000);
  CHECK(type == KeyType::kString);
  CHECK(deleted == 1);
  CHECK(gone_status.code() == Code::kNotFound);
  CHECK(values == std::vector<std::optional<std::string>>{"15", "1", std::nullopt, "v"});
  CHECK(exists == 3);
  CHECK(keys_inside == std::vector<std::string>{"n", "old", "t"});
  CHECK(scanned == std::map<std::string, int>{{"n", 1}, {"old", 1}, {"t", 1}});
  CHECK(size_inside == 3);
  CHECK(expiring_inside == 1);

  // Committed as one write: one batch, counts right at once and on disk.
  CHECK(ks->syncer().VisibleSequence() > sequence_before);
  CHECK(ks->Size() == 3);
  CHECK(ks->ExpiringSize() == 1);
  CHECK(ks.Get("n") == "15");
  CHECK(ks.Missing("gone"));
  ks.Reopen();
  CHECK(ks->Size() == 3);
  CHECK(ks->TtlMs("t") == 5000);
  ks.Close();
  CheckStoreInvariants(ReadStore(ks.options.dir));
}

TEST_CASE("KEYS and SCAN inside a transaction merge its writes within the pattern's range",
          "[keyspace][transaction]") {
  TestKeyspace ks;
  ks.Set("a:0", "1");
  ks.Set("a:2", "1");
  ks.Set("c:0", "1");
  std::vector<std::string> keys_a;
  ScanResult first_step;
  Status scan_status;
  REQUIRE_OK(ks->Atomically({"a:0", "a:1", "a:3", "b:1"}, false, [&] {
    REQUIRE(ks.Del({"a:0"}) == 1);
    ks.Set("a:1", "1");
    ks.Set("a:3", "1");
    ks.Set("b:1", "1");  // written only in the batch, past the a: range.
    keys_a = ks.Keys("a:*");
    // Three keys fit the budget; the step must end at the range's end
    // (cursor 0) rather than go on to b:1: RocksDB 7.8 does not stop a
    // batch's entries at the bound when the last key in range (a:3) is one.
    scan_status = ks->Scan(0, "a:*", 3, std::nullopt, &first_step);
  }));
  CHECK(keys_a == std::vector<std::string>{"a:1", "a:2", "a:3"});
  REQUIRE_OK(scan_status);
  CHECK(first_step.keys == std::vector<std::string>{"a:1", "a:2", "a:3"});
  CHECK(first_step.next_cursor == 0);
  CHECK(ks.Keys("*") == std::vector<std::string>{"a:1", "a:2", "a:3", "b:1", "c:0"});
}

TEST_CASE("time stands still inside a transaction", "[keyspace][transaction]") {
  TestKeyspace ks;
  ks.SetWithExpiry("k", "v", 10);
  const int64_t start = ks->NowMs();
  int64_t inside_before = 0, inside_after = 0, ttl_after = 0;
  std::string value;
  Status get_status;
  REQUIRE_OK(ks->Atomically({"k"}, false, [&] {
    inside_before = ks->NowMs();
    ks.Advance(1000);  // the real clock moves on; the transaction's does not.
    inside_after = ks->NowMs();
    ttl_after = ks->TtlMs("k");
    get_status = ks->Get("k", &value);
  }));
  CHECK(inside_before == start);
  CHECK(inside_after == start);
  CHECK(ttl_after == 10);
  REQUIRE_OK(get_status);
  CHECK(ks->NowMs() == start + 1000);
  CHECK(ks.Missing("k"));
}

// Redis's EXEC: a command that fails at run time fails alone.
TEST_CASE("an operation's error fails that operation only; the others commit",
          "[keyspace][transaction]") {
  TestKeyspace ks;
  ks.Set("text", "abc");
  ks.Set("big", "9223372036854775807");
  Status not_integer, not_float, overflow, counted;
  int64_t result = 0;
  std::string float_result;
  REQUIRE_OK(ks->Atomically({"text", "big", "c"}, false, [&] {
    counted = ks->IncrBy("c", 1, &result);
    not_integer = ks->IncrBy("text", 1, &result);
    not_float = ks->IncrByFloat("text", 1.5, &float_result);
    overflow = ks->IncrBy("big", 1, &result);
    counted = ks->IncrBy("c", 1, &result);
  }));
  CHECK(not_integer.code() == Code::kNotInteger);
  CHECK(not_float.code() == Code::kNotFloat);
  CHECK(overflow.code() == Code::kOverflow);
  REQUIRE_OK(counted);
  CHECK(result == 2);
  CHECK(ks.Get("c") == "2");
  CHECK(ks.Get("text") == "abc");
  CHECK(ks.Get("big") == "9223372036854775807");
  CHECK(ks->Size() == 3);
}

TEST_CASE(
    "a write to a key the transaction did not lock is refused, without waiting, and "
    "abandons the transaction",
    "[keyspace][transaction]") {
  TestKeyspace ks;
  ks.Set("free", "1");

  // Another transaction holds "b" for as long as this test needs: locking it
  // from the first transaction would hang here.
  std::mutex mu;
  std::condition_variable cv;
  bool holding = false, release = false;
  std::thread holder([&] {
    (void)ks->Atomically({"b"}, false, [&] {
      std::unique_lock lock(mu);
      holding = true;
      cv.notify_all();
      cv.wait(lock, [&] { return release; });
    });
  });
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return holding; });
  }

  Status refused, del_refused, flush_refused, set_after;
  std::string read_free;
  Status read_status;
  const Status commit = ks->Atomically({"a"}, false, [&] {
    int64_t result = 0;
    REQUIRE_OK(ks->IncrBy("a", 1, &result));
    refused = ks->IncrBy("b", 1, &result);
    int64_t deleted = 0;
    del_refused = ks->Del({"a", "free"}, &deleted);
    flush_refused = ks->Flush();
    read_status = ks->Get("free", &read_free);  // reads need no lock.
    SetResult set_result;
    set_after = ks->Set("a", "5", {}, &set_result);
  });
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  holder.join();

  CHECK(refused.code() == Code::kIoError);
  CHECK(refused.message() == "key 'b' is written inside a transaction that did not lock it");
  CHECK(del_refused.code() == Code::kIoError);
  CHECK(del_refused.message() == "key 'free' is written inside a transaction that did not lock it");
  CHECK(flush_refused.code() == Code::kIoError);
  REQUIRE_OK(read_status);
  CHECK(read_free == "1");
  REQUIRE_OK(set_after);  // later operations run, but the transaction is lost.
  CHECK(commit.code() == Code::kIoError);
  CHECK(commit.message() == refused.message());
  CHECK(ks.Missing("a"));
  CHECK(ks.Missing("b"));
  CHECK(ks.Get("free") == "1");
  CHECK(ks->Size() == 1);
}

TEST_CASE("a read error inside the body abandons the whole transaction",
          "[keyspace][transaction]") {
  TestKeyspace ks;
  ks.Close();
  PutRawValue(ks.options.dir, "bad", std::string("\x7f\x00", 2));  // unknown type tag.
  ks.Open();
  REQUIRE(ks->Size() == 1);
  Status incr, read;
  std::string value;
  const Status commit = ks->Atomically({"a", "bad"}, false, [&] {
    int64_t result = 0;
    incr = ks->IncrBy("a", 1, &result);
    read = ks->Get("bad", &value);
  });
  REQUIRE_OK(incr);
  CHECK(read.code() == Code::kIoError);
  CHECK(commit.code() == Code::kIoError);
  CHECK(commit.message() == read.message());
  CHECK(ks.Missing("a"));
  CHECK(ks->Size() == 1);
}

TEST_CASE("FLUSH inside a transaction, then writes", "[keyspace][transaction]") {
  TestKeyspace ks;
  ks.Set("x", "1");
  ks.SetWithExpiry("y", "1", 60'000);
  ks.Set("z", "7");

  SECTION("without every key locked it is refused and nothing is written") {
    const Status commit = ks->Atomically({"x"}, false, [&] {
      ks.Set("x", "2");
      CHECK(ks->Flush().code() == Code::kIoError);
    });
    CHECK(commit.code() == Code::kIoError);
    CHECK(ks.Get("x") == "1");
    CHECK(ks->Size() == 3);
  }

  SECTION("with all keys, later operations see an empty keyspace plus their own writes") {
    std::vector<std::string> keys_after_flush, keys_at_end;
    uint64_t size_after_flush = 99, size_at_end = 99, expiring_at_end = 99;
    int64_t x_after = 0;
    bool z_missing = false;
    std::map<std::string, int> scanned;
    REQUIRE_OK(ks->Atomically({}, true, [&] {
      ks.Set("before", "1");  // undone by the FLUSH below.
      REQUIRE_OK(ks->Flush());
      keys_after_flush = ks.Keys("*");
      size_after_flush = ks->Size();
      z_missing = ks.Missing("z");
      x_after = MustIncr(ks, "x", 1);  // a fresh counter, not 1 + 1.
      ks.SetWithExpiry("w", "v", 1000);
      ks.Set("a", "1");
      REQUIRE(ks.Del({"a"}) == 1);
      keys_at_end = ks.Keys("*");
      scanned = ScanAll(ks, "*", 1);
      size_at_end = ks->Size();
      expiring_at_end = ks->ExpiringSize();
    }));
    CHECK(keys_after_flush.empty());
    CHECK(size_after_flush == 0);
    CHECK(z_missing);
    CHECK(x_after == 1);
    CHECK(keys_at_end == std::vector<std::string>{"w", "x"});
    CHECK(scanned == std::map<std::string, int>{{"w", 1}, {"x", 1}});
    CHECK(size_at_end == 2);
    CHECK(expiring_at_end == 1);

    CHECK(ks.Keys("*") == std::vector<std::string>{"w", "x"});
    CHECK(ks->Size() == 2);
    CHECK(ks->ExpiringSize() == 1);
    CHECK(ks.Get("x") == "1");
    CHECK(ks.Missing("y"));
    ks.Reopen();
    CHECK(ks->Size() == 2);
    CHECK(ks->ExpiringSize() == 1);
    CHECK(ks.Keys("*") == std::vector<std::string>{"w", "x"});
    ks.Close();
    const auto contents = ReadStore(ks.options.dir);
    CheckStoreInvariants(contents);
    CHECK(contents.data.size() == 2);
  }

  SECTION("a FLUSH that is the last operation empties the keyspace") {
    REQUIRE_OK(ks->Atomically({}, true, [&] {
      ks.Set("x", "2");
      REQUIRE_OK(ks->Flush());
    }));
    CHECK(ks->Size() == 0);
    CHECK(ks->ExpiringSize() == 0);
    CHECK(ks.Keys("*").empty());
    ks.Close();
    CheckStoreInvariants(ReadStore(ks.options.dir));
  }
}

TEST_CASE("Atomically is not reentrant, and a throwing body writes nothing",
          "[keyspace][transaction]") {
  TestKeyspace ks;
  bool inner_ran = false;
  Status nested;
  REQUIRE_OK(ks->Atomically({"a"}, false, [&] {
    ks.Set("a", "1");
    nested = ks->Atomically({"a"}, false, [&] { inner_ran = true; });
  }));
  CHECK(nested.code() == Code::kIoError);
  CHECK_FALSE(inner_ran);
  CHECK(ks.Get("a") == "1");

  CHECK_THROWS_AS(ks->Atomically({"a"}, false,
                                 [&] {
                                   ks.Set("a", "2");
                                   throw std::runtime_error("body failed");
                                 }),
                  std::runtime_error);
  CHECK(ks.Get("a") == "1");
  // Locks released and the thread no longer in a transaction.
  REQUIRE_OK(ks->Atomically({"a"}, false, [&] { ks.Set("a", "3"); }));
  CHECK(ks.Get("a") == "3");
  ks.Set("a", "4");
  CHECK(ks.Get("a") == "4");
}

TEST_CASE("a read-only transaction writes nothing", "[keyspace][transaction]") {
  TestKeyspace ks;
  ks.Set("a", "1");
  const uint64_t sequence = ks->syncer().VisibleSequence();
  std::string value;
  REQUIRE_OK(ks->Atomically({"a"}, false, [&] { REQUIRE_OK(ks->Get("a", &value)); }));
  CHECK(value == "1");
  CHECK(ks->syncer().VisibleSequence() == sequence);
}

TEST_CASE("nothing of a transaction is visible to other threads before it commits",
          "[keyspace][transaction]") {
  TestKeyspace ks;
  ks.Set("a", "0");
  std::optional<std::string> other_a, other_b;
  uint64_t other_size = 99;
  std::vector<std::string> other_keys;
  bool inside_sees_b = false;
  REQUIRE_OK(ks->Atomically({"a", "b"}, false, [&] {
    MustIncr(ks, "a", 1);
    ks.Set("b", "1");
    inside_sees_b = ks.Get("b") == "1";
    // Another thread reads without locks, as plain GET/MGET/KEYS/DBSIZE do.
    std::thread reader([&] {
      std::vector<std::optional<std::string>> values;
      if (ks->MGet({"a", "b"}, &values).ok()) {
        other_a = values[0];
        other_b = values[1];
      }
      other_size = ks->Size();
      (void)ks->Keys("*", &other_keys);
    });
    reader.join();
  }));
  CHECK(inside_sees_b);
  CHECK(other_a == "0");
  CHECK(other_b == std::nullopt);
  CHECK(other_size == 1);
  CHECK(other_keys == std::vector<std::string>{"a"});
  CHECK(ks.Get("a") == "1");
  CHECK(ks.Get("b") == "1");
  CHECK(ks->Size() == 2);
}

TEST_CASE("concurrent transactions are atomic and isolated", "[keyspace][transaction]") {
  TestKeyspace ks;
  constexpr int kWriters = 4;
  constexpr int kRounds = 2000;
  std::atomic<int> errors{0}, torn{0}, reads{0}, writers_left{kWriters};
  std::vector<std::thread> threads;
  for (int t = 0; t < kWriters; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kRounds; ++i) {
        Status inner;
        const Status commit = ks->Atomically({"a", "b"}, false, [&] {
          int64_t result = 0;
          inner = ks->IncrBy("a", 1, &result);
          if (inner.ok()) inner = ks->IncrBy("b", 1, &result);
        });
        if (!commit.ok() || !inner.ok()) ++errors;
      }
      --writers_left;
    });
  }
  // Locked readers: both values read inside one transaction on {a, b}.
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&] {
      while (writers_left > 0) {
        std::string a, b;
        Status read_a, read_b;
        const Status commit = ks->Atomically({"a", "b"}, false, [&] {
          read_a = ks->Get("a", &a);
          read_b = ks->Get("b", &b);
        });
        if (!commit.ok()) ++errors;
        if (read_a.code() != read_b.code() || a != b) ++torn;
        ++reads;
      }
    });
  }
  // A lock-free reader: MGET reads one snapshot, so one batch is all or nothing to it too.
  threads.emplace_back([&] {
    while (writers_left > 0) {
      std::vector<std::optional<std::string>> values;
      if (!ks->MGet({"a", "b"}, &values).ok()) ++errors;
      if (values[0] != values[1]) ++torn;
      ++reads;
    }
  });
  for (auto& thread : threads) thread.join();
  CHECK(errors == 0);
  CHECK(torn == 0);
  CHECK(reads > 0);
  CHECK(ks.Get("a") == std::to_string(kWriters * kRounds));
  CHECK(ks.Get("b") == std::to_string(kWriters * kRounds));
  CHECK(ks->Size() == 2);
}

// Transactions write short-lived keys while the clock runs and the reaper
// deletes whatever expired: DBSIZE must match the keys really stored.
TEST_CASE("the reaper and transactions keep DBSIZE exact", "[keyspace][transaction]") {
  TestKeyspace ks(/*reaper_interval_ms=*/1);
  constexpr int kWriters = 3;
  constexpr int kRounds = 1500;
  std::atomic<int> errors{0};
  std::atomic<bool> done{false};
  std::thread clock([&] {
    while (!done) {
      ks.Advance(1);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < kWriters; ++t) {
    writers.emplace_back([&, t] {
      const std::string counter = "count:" + std::to_string(t);
      for (int i = 0; i < kRounds; ++i) {
        const std::string key = "tmp:" + std::to_string(t) + ":" + std::to_string(i % 20);
        const std::string other = "tmp:" + std::to_string(t) + ":" + std::to_string((i + 7) % 20);
        const std::string shared = "shared:" + std::to_string(i % 5);
        Status inner;
        auto keep = [&](Status status) {
          if (!status.ok() && inner.ok()) inner = status;
        };
        const Status commit = ks->Atomically({key, other, counter, shared}, false, [&] {
          SetOptions ttl;
          ttl.expire_at_ms = ks->NowMs() + 1 + i % 5;
          SetResult set_result;
          keep(ks->Set(key, "v", ttl, &set_result));
          int64_t number = 0;
          keep(ks->IncrBy(counter, 1, &number));
          keep(ks->IncrBy(shared, 1, &number));  // keeps the TTL it may have.
          bool applied = false;
          if (i % 3 == 0) keep(ks->ExpireAt(shared, ks->NowMs() + 2, {}, &applied));
          if (i % 4 == 0) keep(ks->Del({other}, &number));
          if (i % 6 == 0) keep(ks->Persist(key, &applied));
        });
        if (!commit.ok() || !inner.ok()) ++errors;
      }
    });
  }
  for (auto& writer : writers) writer.join();
  done = true;
  clock.join();
  CHECK(errors == 0);

  // The clock stands still now: once the reaper has caught up, what is
  // stored is what is live, and the in-memory counts must match it exactly
  // (and the stored counts, on disk).
  for (int i = 0; i < 1000 && ks->Size() != ks.Keys("*").size(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const uint64_t size = ks->Size();
  const uint64_t expiring = ks->ExpiringSize();
  CHECK(size == ks.Keys("*").size());
  ks.Close();
  auto contents = ReadStore(ks.options.dir);
  CheckStoreInvariants(contents);
  CHECK(contents.data.size() == size);
  CHECK(static_cast<uint64_t>(contents.expiring_count) == expiring);

  // Past every expiry the reaper leaves the counters and the persisted keys.
  ks.Open();
  ks.Advance(60'000);
  std::set<std::string> persistent;
  for (const auto& [key, expire_at_ms] : contents.data) {
    if (expire_at_ms == 0) persistent.insert(key);
  }
  for (int i = 0; i < 1000 && ks->Size() != persistent.size(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK(ks->Size() == persistent.size());
  CHECK(ks->ExpiringSize() == 0);
  for (int t = 0; t < kWriters; ++t) {
    CHECK(ks.Get("count:" + std::to_string(t)) == std::to_string(kRounds));
  }
  ks.Close();
  contents = ReadStore(ks.options.dir);
  CheckStoreInvariants(contents);
  CHECK(contents.data.size() == persistent.size());
}

// A crash keeps a prefix of the WAL; power loss may cut its last record
// anywhere. Cutting a copy of the live WAL at many points and recovering
// each must give whole transactions only: a == b, one pad key per
// transaction, counts that match.
TEST_CASE("recovery after a crash sees every transaction whole or not at all",
          "[keyspace][transaction]") {
  TestKeyspace ks;
  ks.options.durability = Durability::kNone;  // what reaches the file is all there is.
  ks.Reopen();
  constexpr int kTransactions = 40;
  const std::string pad(6000, 'p');  // several transactions per 32 KiB WAL block.
  for (int i = 0; i < kTransactions; ++i) {
    const std::string pad_key = "pad:" + std::to_string(i);
    REQUIRE_OK(ks->Atomically({"a", "b", pad_key}, false, [&] {
      MustIncr(ks, "a", 1);
      ks.Set(pad_key, pad);
      MustIncr(ks, "b", 1);
    }));
  }

  // The directory as a crash would leave it (the keyspace stays open, so
  // nothing is flushed from the WAL into table files).
  TempDir crash;
  const std::filesystem::path image = crash.path() / "image";
  std::filesystem::copy(ks.options.dir, image);
  std::filesystem::path wal;
  for (const auto& entry : std::filesystem::directory_iterator(image)) {
    if (entry.path().extension() == ".log" &&
        (wal.empty() || entry.path().filename() > wal.filename())) {
      wal = entry.path();
    }
  }
  REQUIRE_FALSE(wal.empty());
  const auto wal_size = std::filesystem::file_size(wal);
  REQUIRE(wal_size > 200'000);

  std::set<int64_t> recovered;
  constexpr int kCuts = 32;
  for (int cut = 0; cut <= kCuts; ++cut) {
    // Spread over the file, off block and record boundaries.
    const auto length = std::min<uintmax_t>(wal_size, wal_size * cut / kCuts + 13 * cut);
    const std::filesystem::path dir = crash.path() / ("cut" + std::to_string(cut));
    std::filesystem::copy(image, dir);
    std::filesystem::resize_file(dir / wal.filename(), length);

    OpenOptions options;
    options.dir = dir.string();
    options.durability = Durability::kNone;
    options.reaper_interval_ms = tally::storage::testing::kReaperOff;
    std::unique_ptr<Keyspace> keyspace;
    REQUIRE_OK(Keyspace::Open(options, &keyspace));
    auto number = [&](std::string_view key) -> int64_t {
      std::string value;
      const Status status = keyspace->Get(key, &value);
      return status.ok() ? std::stoll(value) : 0;
    };
    const int64_t a = number("a");
    INFO("cut at " << length << " of " << wal_size);
    CHECK(a == number("b"));
    std::vector<std::string> pads;
    REQUIRE_OK(keyspace->Keys("pad:*", &pads));
    CHECK(static_cast<int64_t>(pads.size()) == a);
    CHECK(keyspace->Size() == static_cast<uint64_t>(a == 0 ? 0 : a + 2));
    recovered.insert(a);
    keyspace.reset();
    CheckStoreInvariants(ReadStore(options.dir));
  }
  // The cuts really landed inside the history, and the whole WAL recovers all.
  CHECK(recovered.size() > kCuts / 2);
  CHECK(recovered.count(kTransactions) == 1);
}
