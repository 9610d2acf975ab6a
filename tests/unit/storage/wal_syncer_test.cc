#include "storage/wal_syncer.h"

#include <rocksdb/db.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <random>
#include <thread>

#include "tests/unit/numbered.h"

namespace {

using tally::storage::Durability;
using tally::storage::WalSyncer;
using tally::testing::Numbered;

struct TempDb {
  std::filesystem::path dir;
  std::unique_ptr<rocksdb::DB> db;
  TempDb() {
    dir = std::filesystem::temp_directory_path() /
          ("tally-walsyncer-" + std::to_string(std::random_device{}()));
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    REQUIRE(rocksdb::DB::Open(options, dir.string(), &raw).ok());
    db.reset(raw);
  }
  ~TempDb() {
    db.reset();
    std::filesystem::remove_all(dir);
  }
  // Returns whether the write succeeded. No REQUIRE here: worker threads
  // call it, and Catch2's assertions are not thread-safe (TSan found that).
  bool Put(const std::string& key) {
    rocksdb::WriteOptions unsynced;
    return db->Put(unsynced, key, "v").ok();
  }
};

template <typename Pred>
bool WaitFor(Pred pred) {
  for (int i = 0; i < 1000 && !pred(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  return pred();
}

}  // namespace

TEST_CASE("always: a waiter is released only after a sync covering its write",
          "[durability][wal_syncer]") {
  TempDb t;
  WalSyncer syncer(t.db.get(), Durability::kAlways);
  REQUIRE(t.Put("a"));
  uint64_t seq = syncer.VisibleSequence();
  REQUIRE(seq > syncer.DurableSequence());
  std::atomic<int> released{0};
  std::atomic<bool> durable{false};
  syncer.WhenDurable(seq, [&](bool ok) {
    durable = ok;
    released++;
  });
  REQUIRE(WaitFor([&] { return released.load() == 1; }));
  CHECK(durable);
  CHECK(syncer.DurableSequence() >= seq);
  CHECK(syncer.sync_count() >= 1);

  // Nothing new written: released at once, without another sync.
  uint64_t syncs = syncer.sync_count();
  bool immediate = false;
  syncer.WhenDurable(syncer.VisibleSequence(), [&](bool ok) { immediate = ok; });
  CHECK(immediate);
  CHECK(syncer.sync_count() == syncs);
}

TEST_CASE("always: concurrent writers share syncs", "[durability][wal_syncer]") {
  TempDb t;
  WalSyncer syncer(t.db.get(), Durability::kAlways);
  constexpr int kThreads = 4, kWrites = 200;
  std::atomic<int> released{0};
  std::atomic<int> failed_puts{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      for (int j = 0; j < kWrites; ++j) {
        if (!t.Put(Numbered("k", i) + ":" + std::to_string(j))) failed_puts++;
        std::atomic<bool> done{false};
        syncer.WhenDurable(syncer.VisibleSequence(), [&](bool ok) {
          if (ok) released++;
          done = true;
        });
        while (!done) std::this_thread::yield();
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failed_puts == 0);
  CHECK(released == kThreads * kWrites);
  // Every write waited for a sync, but never more syncs than writes.
  CHECK(syncer.sync_count() >= 1);
  CHECK(syncer.sync_count() <= static_cast<uint64_t>(kThreads * kWrites));
}

TEST_CASE("none and everysec: replies never wait", "[durability][wal_syncer]") {
  for (Durability mode : {Durability::kNone, Durability::kEverySec}) {
    TempDb t;
    WalSyncer syncer(t.db.get(), mode);
    REQUIRE(t.Put("a"));
    bool released = false;
    syncer.WhenDurable(syncer.VisibleSequence(), [&](bool ok) { released = ok; });
    CHECK(released);
  }
}

TEST_CASE("everysec syncs in the background", "[durability][wal_syncer]") {
  TempDb t;
  WalSyncer syncer(t.db.get(), Durability::kEverySec);
  REQUIRE(t.Put("a"));
  uint64_t seq = syncer.VisibleSequence();
  CHECK(WaitFor([&] { return syncer.DurableSequence() >= seq; }));
}

TEST_CASE("durability names", "[durability][wal_syncer]") {
  Durability d;
  CHECK(tally::storage::ParseDurability("always", &d));
  CHECK(d == Durability::kAlways);
  CHECK(tally::storage::ParseDurability("everysec", &d));
  CHECK(d == Durability::kEverySec);
  CHECK(tally::storage::ParseDurability("no", &d));
  CHECK(d == Durability::kNone);
  CHECK(tally::storage::ParseDurability("none", &d));
  CHECK_FALSE(tally::storage::ParseDurability("sometimes", &d));
}
