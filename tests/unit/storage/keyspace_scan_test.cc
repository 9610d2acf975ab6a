// KEYS and SCAN: prefix seeks, binary keys, cursors, completeness under writes.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <string>
#include <thread>

#include "keyspace_fixture.h"

using namespace tally::storage;
using tally::storage::testing::TestKeyspace;
using namespace std::string_literals;

namespace {

constexpr uint64_t kMaxCursorId = (uint64_t{1} << 53) - 1;

// Runs a whole SCAN iteration and returns how often each key came back.
std::map<std::string, int> ScanAll(TestKeyspace& ks, std::string_view pattern, int64_t count,
                                   std::optional<KeyType> type = std::nullopt) {
  std::map<std::string, int> seen;
  uint64_t cursor = 0;
  int steps = 0;
  do {
    ScanResult result;
    REQUIRE_OK(ks->Scan(cursor, pattern, count, type, &result));
    for (const std::string& key : result.keys) ++seen[key];
    CHECK(result.next_cursor <= kMaxCursorId);
    cursor = result.next_cursor;
    REQUIRE(++steps < 1'000'000);
  } while (cursor != 0);
  return seen;
}

std::string Numbered(const char* prefix, int i) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%s%05d", prefix, i);
  return buffer;
}

}  // namespace

TEST_CASE("KEYS matches the pattern, in key order, prefix or not", "[keyspace][scan]") {
  TestKeyspace ks;
  for (const char* key : {"usage:b", "usage:a", "usag", "usage;", "other:a", "x:usage:a"}) {
    ks.Set(key, "1");
  }
  CHECK(ks.Keys("usage:*") == std::vector<std::string>{"usage:a", "usage:b"});
  CHECK(ks.Keys("*usage:*") == std::vector<std::string>{"usage:a", "usage:b", "x:usage:a"});
  CHECK(ks.Keys("*:a") == std::vector<std::string>{"other:a", "usage:a", "x:usage:a"});
  CHECK(ks.Keys("usag") == std::vector<std::string>{"usag"});
  CHECK(ks.Keys("usage?b") == std::vector<std::string>{"usage:b"});
  CHECK(ks.Keys("nothing*").empty());
  CHECK(ks.Keys("*").size() == 6);

  ks.SetWithExpiry("usage:c", "1", 10);
  CHECK(ks.Keys("usage:*").size() == 3);
  ks.Advance(10);
  CHECK(ks.Keys("usage:*").size() == 2);
}

TEST_CASE("KEYS and SCAN handle binary keys with NUL and 0xff", "[keyspace][scan]") {
  TestKeyspace ks;
  const std::vector<std::string> keys = {"\0"s, "\0\0"s, "a\0b"s,     "a\xff"s,       "a\xff\xff"s,
                                         "b"s,  "\xff"s, "\xff\xff"s, "\xff\xff\x01"s};
  for (const std::string& key : keys) ks.Set(key, "v");

  CHECK(ks.Keys("*") == keys);
  CHECK(ks.Keys("a\xff*"s) == std::vector<std::string>{"a\xff"s, "a\xff\xff"s});
  CHECK(ks.Keys("\xff\xff*"s) == std::vector<std::string>{"\xff\xff"s, "\xff\xff\x01"s});
  CHECK(ks.Keys("\xff*"s) == std::vector<std::string>{"\xff"s, "\xff\xff"s, "\xff\xff\x01"s});
  CHECK(ks.Keys("a\0*"s) == std::vector<std::string>{"a\0b"s});
  CHECK(ks.Keys("\0"s) == std::vector<std::string>{"\0"s});

  const auto seen = ScanAll(ks, "*", 2);
  CHECK(seen.size() == keys.size());
  for (const std::string& key : keys) CHECK(seen.count(key) == 1);
  CHECK(ScanAll(ks, "\xff*"s, 1).size() == 3);
}

TEST_CASE("a SCAN iteration returns every key once", "[keyspace][scan]") {
  TestKeyspace ks;
  for (int i = 0; i < 500; ++i) ks.Set(Numbered("k:", i), "v");
  for (int i = 0; i < 50; ++i) ks.Set(Numbered("other:", i), "v");

  for (int64_t count : {int64_t{-5}, int64_t{0}, int64_t{1}, int64_t{7}, int64_t{10}, int64_t{550},
                        int64_t{1'000'000'000'000}}) {
    INFO("COUNT " << count);
    const auto all = ScanAll(ks, "*", count);
    CHECK(all.size() == 550);
    CHECK(std::all_of(all.begin(), all.end(), [](const auto& entry) { return entry.second == 1; }));
  }
  CHECK(ScanAll(ks, "k:*", 9).size() == 500);
  CHECK(ScanAll(ks, "*:0004?", 9).size() == 20);
  CHECK(ScanAll(ks, "*", 100, KeyType::kString).size() == 550);
  CHECK(ScanAll(ks, "*", 100, KeyType::kNone).empty());
}

// Found by the command-layer fuzzer: an empty MATCH pattern once meant "all".
TEST_CASE("an empty pattern matches only the empty key, as in Redis", "[keyspace][scan]") {
  TestKeyspace ks;
  ks.Set("k", "v");
  CHECK(ScanAll(ks, "", 10).empty());
  CHECK(ks.Keys("").empty());
  ks.Set("", "v");
  CHECK(ScanAll(ks, "", 10) == std::map<std::string, int>{{"", 1}});
  CHECK(ks.Keys("") == std::vector<std::string>{""});
}

TEST_CASE("SCAN COUNT is the number of keys examined", "[keyspace][scan]") {
  TestKeyspace ks;
  for (int i = 0; i < 10; ++i) ks.Set(Numbered("k:", i), "v");
  ScanResult result;
  REQUIRE_OK(ks->Scan(0, "k:0000[02]", 3, std::nullopt, &result));
  CHECK(result.keys == std::vector<std::string>{"k:00000", "k:00002"});
  REQUIRE(result.next_cursor != 0);
  REQUIRE_OK(ks->Scan(result.next_cursor, "k:0000[02]", 3, std::nullopt, &result));
  CHECK(result.keys.empty());  // k:00003..k:00005 examined, none matched.

  // The last step ends the iteration even when it used its whole COUNT.
  REQUIRE_OK(ks->Scan(0, "*", 10, std::nullopt, &result));
  CHECK(result.keys.size() == 10);
  CHECK(result.next_cursor == 0);
}

TEST_CASE("SCAN cursors can be retried and outlive a pattern change", "[keyspace][scan]") {
  TestKeyspace ks;
  for (int i = 0; i < 6; ++i) ks.Set(Numbered("a:", i), "v");
  for (int i = 0; i < 6; ++i) ks.Set(Numbered("b:", i), "v");

  ScanResult first;
  REQUIRE_OK(ks->Scan(0, "*", 4, std::nullopt, &first));
  ScanResult second;
  REQUIRE_OK(ks->Scan(first.next_cursor, "*", 4, std::nullopt, &second));
  ScanResult retried;
  REQUIRE_OK(ks->Scan(first.next_cursor, "*", 4, std::nullopt, &retried));
  CHECK(retried.keys == second.keys);
  CHECK(retried.keys == std::vector<std::string>{"a:00004", "a:00005", "b:00000", "b:00001"});
  // A repeated step stands for the step it repeats: the same next cursor.
  CHECK(retried.next_cursor == second.next_cursor);
  ScanResult third;
  REQUIRE_OK(ks->Scan(retried.next_cursor, "*", 4, std::nullopt, &third));
  CHECK(third.keys == std::vector<std::string>{"b:00002", "b:00003", "b:00004", "b:00005"});

  // Switching to a pattern whose prefix lies ahead jumps to it.
  ScanResult jumped;
  REQUIRE_OK(ks->Scan(second.next_cursor, "b:0000[45]", 100, std::nullopt, &jumped));
  CHECK(jumped.keys == std::vector<std::string>{"b:00004", "b:00005"});
  CHECK(jumped.next_cursor == 0);
}

TEST_CASE("unknown and expired SCAN cursors are rejected", "[keyspace][scan]") {
  TestKeyspace ks;
  ks.options.cursor_lifetime_ms = 1000;
  ks.Reopen();
  for (int i = 0; i < 10; ++i) ks.Set(Numbered("k:", i), "v");

  ScanResult result;
  CHECK(ks->Scan(12345, "*", 10, std::nullopt, &result).code() == Code::kInvalidCursor);
  CHECK(ks->Scan(UINT64_MAX, "*", 10, std::nullopt, &result).code() == Code::kInvalidCursor);

  REQUIRE_OK(ks->Scan(0, "*", 2, std::nullopt, &result));
  const uint64_t cursor = result.next_cursor;
  REQUIRE(cursor != 0);
  // An iteration unused for the cursor lifetime is forgotten; each step
  // renews it.
  ks.Advance(999);
  REQUIRE_OK(ks->Scan(cursor, "*", 2, std::nullopt, &result));
  ks.Advance(999);
  REQUIRE_OK(ks->Scan(result.next_cursor, "*", 2, std::nullopt, &result));
  const uint64_t latest = result.next_cursor;
  REQUIRE(latest != 0);
  ks.Advance(1000);
  CHECK(ks->Scan(latest, "*", 2, std::nullopt, &result).code() == Code::kInvalidCursor);
}

// A writer adds and deletes other keys, interleaved in key order with the
// stable ones, while a full SCAN with a small COUNT runs: every stable key
// must come back (and, since cursors are key positions, exactly once).
TEST_CASE("SCAN returns every key present throughout, despite concurrent writes",
          "[keyspace][scan]") {
  TestKeyspace ks;
  constexpr int kStable = 2000;
  for (int i = 0; i < kStable; ++i) ks.Set(Numbered("k:", i), "v");
  for (int i = 0; i < kStable; i += 2) ks.Set(Numbered("k:", i) + ":churn", "v");

  std::atomic<bool> done{false};
  std::atomic<int> write_errors{0};
  int writes = 0;
  std::thread writer([&] {  // no Catch assertions off the main thread.
    for (; writes < 200'000 && !done; ++writes) {
      const std::string key = Numbered("k:", (writes * 7919) % kStable) + ":churn";
      int64_t deleted = 0;
      SetResult result;
      const Status status =
          writes % 2 == 0 ? ks->Del({key}, &deleted) : ks->Set(key, "v", SetOptions{}, &result);
      if (!status.ok()) ++write_errors;
    }
  });
  const auto seen = ScanAll(ks, "*", 5);
  done = true;
  writer.join();
  CHECK(write_errors == 0);
  CHECK(writes > 0);

  for (int i = 0; i < kStable; ++i) {
    const auto it = seen.find(Numbered("k:", i));
    INFO(Numbered("k:", i));
    REQUIRE(it != seen.end());
    CHECK(it->second == 1);
  }
}

// Redis keeps SCAN working while writes are refused, and redis-cli --scan
// with it: a step's cursor state is bookkeeping, not a write a client asked
// for, so a failing disk must not fail it.
TEST_CASE("SCAN keeps working while the disk fails", "[keyspace][scan][disk]") {
  tally::storage::testing::FailingDiskKeyspace ks;
  for (int i = 0; i < 10; ++i) {
    SetResult set_result;
    REQUIRE_OK(ks->Set(Numbered("k:", i), "v", {}, &set_result));
  }
  ks.FailWrites();
  int64_t result = 0;
  REQUIRE(ks->IncrBy("other", 1, &result).code() == Code::kDiskError);  // writes refused
  std::vector<std::string> seen;
  uint64_t cursor = 0;
  int steps = 0;
  do {
    ScanResult step;
    REQUIRE_OK(ks->Scan(cursor, "*", 3, std::nullopt, &step));
    seen.insert(seen.end(), step.keys.begin(), step.keys.end());
    cursor = step.next_cursor;
  } while (cursor != 0 && ++steps < 100);
  CHECK(seen.size() == 10);
  ks.HealWrites();
}
