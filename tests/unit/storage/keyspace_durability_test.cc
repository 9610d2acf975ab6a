// What survives a restart, exclusive ownership of the directory, DBSIZE and
// FLUSH, and the on-disk invariants behind them.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>

#include <rocksdb/env.h>

#include "keyspace_fixture.h"
#include "tests/unit/numbered.h"

using namespace tally::storage;
using tally::storage::testing::CheckStoreInvariants;
using tally::storage::testing::ReadStore;
using tally::storage::testing::TempDir;
using tally::storage::testing::TestKeyspace;
using tally::testing::Numbered;
using namespace std::string_literals;

TEST_CASE("values, TTLs, counts and SCAN cursors survive a restart", "[keyspace][durability]") {
  TestKeyspace ks;
  ks.Set("raw", "010");
  int64_t counter = 0;
  REQUIRE_OK(ks->IncrBy("counter", 41, &counter));
  ks.SetWithExpiry("ttl", "v", 60'000);
  for (int i = 0; i < 20; ++i) ks.Set(Numbered("scan:", i + 10), "v");
  ScanResult step;
  REQUIRE_OK(ks->Scan(0, "scan:*", 5, std::nullopt, &step));
  REQUIRE(step.next_cursor != 0);
  const uint64_t cursor = step.next_cursor;

  ks.Reopen();
  CHECK(ks.stats.keys == 23);
  CHECK(ks.stats.open_seconds >= 0);
  CHECK(ks->Size() == 23);
  CHECK(ks->ExpiringSize() == 1);
  CHECK(ks.Get("raw") == "010");
  REQUIRE_OK(ks->IncrBy("counter", 1, &counter));
  CHECK(counter == 42);
  CHECK(ks->TtlMs("ttl") == 60'000);

  // The cursor resumes after the first five keys; ids keep growing.
  std::set<std::string> seen;
  uint64_t next = cursor;
  while (next != 0) {
    REQUIRE_OK(ks->Scan(next, "scan:*", 5, std::nullopt, &step));
    CHECK((step.next_cursor == 0 || step.next_cursor > cursor));
    seen.insert(step.keys.begin(), step.keys.end());
    next = step.next_cursor;
  }
  CHECK(seen.size() == 15);
  CHECK(seen.count("scan:10") == 0);

  ks.Close();
  CheckStoreInvariants(ReadStore(ks.options.dir));
}

TEST_CASE("writes survive a restart", "[keyspace][durability]") {
  TestKeyspace ks;
  int64_t counter = 0;
  for (int i = 0; i < 5; ++i) REQUIRE_OK(ks->IncrBy("c", 1, &counter));
  ks.Reopen();
  CHECK(ks.Get("c") == "5");
}

TEST_CASE("without inline syncs, the WAL syncer makes writes durable", "[keyspace][durability]") {
  TestKeyspace ks;  // durability kAlways: replies would wait.
  int64_t counter = 0;
  REQUIRE_OK(ks->IncrBy("c", 1, &counter));
  WalSyncer& syncer = ks->syncer();
  const uint64_t sequence = syncer.VisibleSequence();
  REQUIRE(sequence > syncer.DurableSequence());
  std::atomic<int> durable{-1};
  syncer.WhenDurable(sequence, [&](bool ok) { durable = ok ? 1 : 0; });
  for (int i = 0; i < 1000 && durable == -1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK(durable == 1);
  CHECK(syncer.DurableSequence() >= sequence);
}

TEST_CASE("an injected RocksDB Env is used", "[keyspace][durability]") {
  std::unique_ptr<rocksdb::Env> memory(rocksdb::NewMemEnv(rocksdb::Env::Default()));
  TempDir dir;
  OpenOptions options;
  options.dir = dir.path().string();
  options.env = memory.get();
  options.durability = Durability::kNone;  // the memory Env cannot SyncWAL().
  std::unique_ptr<Keyspace> keyspace;
  REQUIRE_OK(Keyspace::Open(options, &keyspace));
  int64_t counter = 0;
  REQUIRE_OK(keyspace->IncrBy("c", 7, &counter));
  keyspace.reset();
  CHECK(std::filesystem::is_empty(dir.path()));  // every file went to the Env.

  REQUIRE_OK(Keyspace::Open(options, &keyspace));
  std::string value;
  REQUIRE_OK(keyspace->Get("c", &value));
  CHECK(value == "7");
}

TEST_CASE("the data directory and its parents are created", "[keyspace][durability]") {
  TempDir dir;
  OpenOptions options;
  options.dir = (dir.path() / "a" / "b" / "data").string();
  std::unique_ptr<Keyspace> keyspace;
  REQUIRE_OK(Keyspace::Open(options, &keyspace));
  CHECK(keyspace->Size() == 0);
}

TEST_CASE("a second Open of a directory in use fails clearly", "[keyspace][durability]") {
  TestKeyspace ks;
  std::unique_ptr<Keyspace> second;
  const Status status = Keyspace::Open(ks.options, &second);
  CHECK(status.code() == Code::kIoError);
  CHECK(status.message() == "data directory " + ks.options.dir +
                                " is in use by another process (RocksDB LOCK is held)");
  CHECK(second == nullptr);
  ks.Set("still", "works");
}

// Another process holds RocksDB's LOCK file the way RocksDB does (an fcntl
// write lock). The child only makes system calls, which is safe after fork()
// in a process that has threads.
TEST_CASE("Open fails clearly while another process holds the directory",
          "[keyspace][durability]") {
  TempDir dir;
  OpenOptions options;
  options.dir = dir.path().string();
  const std::string lock_path = (dir.path() / "LOCK").string();
  int ready[2];
  int release[2];
  REQUIRE(pipe(ready) == 0);
  REQUIRE(pipe(release) == 0);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    alarm(60);          // never outlive a parent that failed before releasing us.
    close(release[1]);  // so closing the parent's end gives us EOF.
    const int fd = open(lock_path.c_str(), O_RDWR | O_CREAT, 0644);
    struct flock lock = {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    const char ok = (fd >= 0 && fcntl(fd, F_SETLK, &lock) == 0) ? 1 : 0;
    (void)!write(ready[1], &ok, 1);
    char unused;
    (void)!read(release[0], &unused, 1);
    _exit(0);
  }
  char locked = 0;
  REQUIRE(read(ready[0], &locked, 1) == 1);
  REQUIRE(locked == 1);

  std::unique_ptr<Keyspace> keyspace;
  const Status status = Keyspace::Open(options, &keyspace);
  CHECK(status.code() == Code::kIoError);
  CHECK(status.message() ==
        "data directory " + options.dir + " is in use by another process (RocksDB LOCK is held)");

  close(release[1]);
  int child_status = 0;
  REQUIRE(waitpid(child, &child_status, 0) == child);
  for (int fd : {ready[0], ready[1], release[0]}) close(fd);
  REQUIRE_OK(Keyspace::Open(options, &keyspace));  // free again.
}

TEST_CASE("FLUSH deletes every key in one step", "[keyspace][durability]") {
  TestKeyspace ks;
  for (const std::string& key : {"a"s, "\0"s, "\xff\xff\xff"s, "usage:x"s}) ks.Set(key, "1");
  ks.SetWithExpiry("ttl", "v", 1000);
  REQUIRE_OK(ks->Flush());
  CHECK(ks->Size() == 0);
  CHECK(ks->ExpiringSize() == 0);
  CHECK(ks.Keys("*").empty());
  CHECK(ks.Missing("\xff\xff\xff"s));

  REQUIRE_OK(ks->Flush());  // an empty keyspace is fine too.
  ks.Set("after", "1");
  ks.SetWithExpiry("after-ttl", "1", 1000);
  ks.Reopen();
  CHECK(ks->Size() == 2);
  CHECK(ks->ExpiringSize() == 1);
  CHECK(ks.Keys("*") == std::vector<std::string>{"after", "after-ttl"});
  ks.Close();
  CheckStoreInvariants(ReadStore(ks.options.dir));
}

// A random mix of every write, checked against a model of the live keys. The
// clock stands still during the mix, so DBSIZE must equal the model exactly.
TEST_CASE("DBSIZE stays exact through a mix of writes and restarts", "[keyspace][durability]") {
  TestKeyspace ks(/*reaper_interval_ms=*/5);
  std::map<std::string, bool> model;  // key -> has expiry
  std::mt19937 random(12345);
  auto key_of = [&](int i) { return Numbered("k", i); };

  for (int round = 0; round < 3000; ++round) {
    const std::string key = key_of(static_cast<int>(random() % 60));
    const int64_t now = ks->NowMs();
    switch (random() % 10) {
      case 0:
        ks.Set(key, "1");
        model[key] = false;
        break;
      case 1:
        ks.SetWithExpiry(key, "2", 1000 + random() % 1000);
        model[key] = true;
        break;
      case 2: {
        int64_t result = 0;
        REQUIRE_OK(ks->IncrBy(key, 1, &result));
        model.emplace(key, false);  // keeps an existing TTL.
        break;
      }
      case 3: {
        SetOptions nx;
        nx.condition = SetCondition::kIfMissing;
        SetResult result;
        REQUIRE_OK(ks->Set(key, "3", nx, &result));
        CHECK(result.applied == (model.count(key) == 0));
        model.emplace(key, false);
        break;
      }
      case 4: {
        const std::string other = key_of(static_cast<int>(random() % 60));
        int64_t deleted = 0;
        REQUIRE_OK(ks->Del({key, other}, &deleted));
        CHECK(deleted == static_cast<int64_t>(model.erase(key) + model.erase(other)));
        break;
      }
      case 5: {
        bool applied = false;
        REQUIRE_OK(ks->ExpireAt(key, now + 5000, ExpireCondition{}, &applied));
        CHECK(applied == (model.count(key) == 1));
        if (applied) model[key] = true;
        break;
      }
      case 6: {
        bool applied = false;
        REQUIRE_OK(ks->ExpireAt(key, now - 1, ExpireCondition{}, &applied));
        CHECK(applied == (model.erase(key) == 1));
        break;
      }
      case 7: {
        bool applied = false;
        REQUIRE_OK(ks->Persist(key, &applied));
        if (applied) model[key] = false;
        break;
      }
      case 8: {
        const std::string other = key_of(static_cast<int>(random() % 60));
        REQUIRE_OK(ks->MSet({{key, "1"}, {other, "2"}}));
        model[key] = false;
        model[other] = false;
        break;
      }
      case 9:
        if (random() % 50 == 0) {
          REQUIRE_OK(ks->Flush());
          model.clear();
        } else {
          std::string value;
          const Status status = ks->GetDel(key, &value);
          CHECK(status.ok() == (model.erase(key) == 1));
        }
        break;
    }
    size_t expiring = 0;
    for (const auto& entry : model) expiring += entry.second ? 1 : 0;
    REQUIRE(ks->Size() == model.size());
    REQUIRE(ks->ExpiringSize() == expiring);
    if (round % 1000 == 999) {
      ks.Reopen();
      REQUIRE(ks->Size() == model.size());
      REQUIRE(ks->ExpiringSize() == expiring);
    }
  }

  // Past every expiry the reaper brings DBSIZE down to the keys without one.
  size_t persistent = 0;
  for (const auto& entry : model) persistent += entry.second ? 0 : 1;
  ks.Advance(10'000);
  for (int i = 0; i < 1000 && ks->Size() != persistent; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK(ks->Size() == persistent);
  CHECK(ks->ExpiringSize() == 0);
  ks.Close();
  const auto contents = ReadStore(ks.options.dir);
  CheckStoreInvariants(contents);
  CHECK(contents.data.size() == persistent);
}

TEST_CASE("the reaper deletes SCAN cursor states past their lifetime", "[keyspace][durability]") {
  TestKeyspace ks(/*reaper_interval_ms=*/5);
  ks.options.cursor_lifetime_ms = 1000;
  ks.Reopen();
  for (int i = 0; i < 10; ++i) ks.Set(Numbered("k", i), "v");
  uint64_t cursor = 0;
  for (int i = 0; i < 3; ++i) {
    ScanResult step;
    REQUIRE_OK(ks->Scan(cursor, "*", 2, std::nullopt, &step));
    cursor = step.next_cursor;
  }
  ks.Close();
  // One state per iteration, rewritten by each step: not one per step.
  CHECK(ReadStore(ks.options.dir).cursor_states == 1);

  ks.Advance(1000);
  ks.Open();
  ScanResult step;
  CHECK(ks->Scan(cursor, "*", 2, std::nullopt, &step).code() == Code::kInvalidCursor);
  // Give the reaper a few rounds at a time until the states are gone (bounded).
  size_t states = 1;
  for (int i = 0; i < 200 && states != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ks.Close();
    states = ReadStore(ks.options.dir).cursor_states;
    ks.Open();
  }
  CHECK(states == 0);
}
