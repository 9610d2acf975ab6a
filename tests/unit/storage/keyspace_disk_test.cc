// Disk failures that RocksDB survives only if Tally calls it carefully
// (issue 14): a WAL append that failed must never reach SyncWAL() (RocksDB
// 7.8 asserts, and Debian's build keeps its asserts), and a write
// that was applied but whose fsync failed waits for the disk recovery rather
// than being reported as failed. Faults come from the fault switch
// (FailingDiskKeyspace); the tests bound every wait.
#include <atomic>
#include <chrono>
#include <thread>

#include "tests/unit/storage/keyspace_fixture.h"

using namespace tally::storage;
using namespace tally::storage::testing;
using namespace std::chrono_literals;

namespace {

// Retries a write for up to 15 s: the disk recovery retries every second,
// RocksDB's own (which blocks ours) every 5 s.
Status IncrUntilAccepted(Keyspace& keyspace, std::string_view key, int64_t* result) {
  Status status;
  for (int i = 0; i < 300; ++i) {
    status = keyspace.IncrBy(key, 1, result);
    if (status.ok()) break;
    std::this_thread::sleep_for(50ms);
  }
  return status;
}

}  // namespace

TEST_CASE("disk: everysec keeps running after a failed WAL append and recovers",
          "[keyspace][disk]") {
  FailingDiskKeyspace keyspace(Durability::kEverySec);
  int64_t result = 0;
  REQUIRE_OK(keyspace->IncrBy("k", 1, &result));
  keyspace.FailWrites();
  CHECK(keyspace->IncrBy("k", 1, &result).code() == Code::kDiskError);
  // The syncer runs every second: a SyncWAL() on the failed writer would
  // abort the process here.
  std::this_thread::sleep_for(1500ms);
  std::string value;
  REQUIRE_OK(keyspace->Get("k", &value));
  CHECK(value == "1");
  keyspace.HealWrites();
  REQUIRE_OK(IncrUntilAccepted(*keyspace, "k", &result));
  CHECK(result == 2);
}

TEST_CASE("disk: an applied write whose fsync failed waits for the recovery, not an error",
          "[keyspace][disk]") {
  FailingDiskKeyspace keyspace(Durability::kAlways);
  int64_t result = 0;
  // Applied (in the WAL file and the memtable) but not synced: nobody waited.
  REQUIRE_OK(keyspace->IncrBy("k", 1, &result));
  WalSyncer& syncer = keyspace->syncer();
  const uint64_t sequence = syncer.VisibleSequence();
  REQUIRE(sequence > syncer.DurableSequence());

  keyspace.FailWrites();
  // A write refused up front is not applied...
  CHECK(keyspace->IncrBy("other", 1, &result).code() == Code::kDiskError);
  // ... and its failed WAL append must not make the sync below abort.
  std::atomic<int> answer{-1};
  syncer.WhenDurable(sequence, [&answer](bool durable) { answer = durable ? 1 : 0; });
  // The sync fails; the write is applied all the same, so its waiter is held
  // for the recovery instead of being told "not durable".
  std::this_thread::sleep_for(700ms);
  CHECK(answer.load() == -1);
  CHECK(syncer.failure_count() >= 1);

  keyspace.HealWrites();
  for (int i = 0; i < 300 && answer.load() == -1; ++i) std::this_thread::sleep_for(50ms);
  CHECK(answer.load() == 1);
  CHECK(syncer.DurableSequence() >= sequence);
  std::string value;
  REQUIRE_OK(keyspace->Get("k", &value));
  CHECK(value == "1");
  CHECK(keyspace->Get("other", &value).code() == Code::kNotFound);
}

TEST_CASE("disk: a waiter gives up after the hold when the disk stays broken", "[keyspace][disk]") {
  FailingDiskKeyspace keyspace(Durability::kAlways);
  int64_t result = 0;
  REQUIRE_OK(keyspace->IncrBy("k", 1, &result));
  WalSyncer& syncer = keyspace->syncer();
  keyspace.FailWrites();
  const auto started = std::chrono::steady_clock::now();
  std::atomic<int> answer{-1};
  syncer.WhenDurable(syncer.VisibleSequence(),
                     [&answer](bool durable) { answer = durable ? 1 : 0; });
  for (int i = 0; i < 400 && answer.load() == -1; ++i) std::this_thread::sleep_for(50ms);
  CHECK(answer.load() == 0);
  CHECK(std::chrono::steady_clock::now() - started >= WalSyncer::kFailedSyncHold);
}

TEST_CASE("disk: closing right after the disk healed, before the recovery ran, keeps the data",
          "[keyspace][disk]") {
  FailingDiskKeyspace keyspace(Durability::kEverySec);
  int64_t result = 0;
  REQUIRE_OK(keyspace->IncrBy("k", 1, &result));
  keyspace.FailWrites();
  CHECK(keyspace->IncrBy("k", 1, &result).code() == Code::kDiskError);
  keyspace.HealWrites();
  // Closing flushes the memtables and closes the WAL whose append failed:
  // that must neither abort nor lose what was applied.
  keyspace.keyspace.reset();
  keyspace.Open();
  std::string value;
  REQUIRE_OK(keyspace->Get("k", &value));
  CHECK(value == "1");
  REQUIRE_OK(keyspace->IncrBy("k", 1, &result));
  CHECK(result == 2);
}
