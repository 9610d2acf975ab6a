// Keyspace::SetWriteObserver: told of exactly the keys a write changes, as
// Redis signals modified keys to WATCH, whichever way the write is made.
#include <chrono>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "keyspace_fixture.h"

using namespace tally::storage;
using tally::storage::testing::TestKeyspace;

namespace {

struct ObservedKeyspace : TestKeyspace {
  explicit ObservedKeyspace(int reaper_interval_ms = tally::storage::testing::kReaperOff)
      : TestKeyspace(reaper_interval_ms) {
    keyspace->SetWriteObserver([this](std::string_view key) { seen.emplace_back(key); });
  }
  // The keys observed since the last call.
  std::vector<std::string> Take() { return std::exchange(seen, {}); }
  std::vector<std::string> seen;
};

using Keys = std::vector<std::string>;

}  // namespace

TEST_CASE("the write observer hears of changes and not of writes that change nothing",
          "[keyspace][observer]") {
  ObservedKeyspace ks;
  int64_t value = 0;
  bool applied = false;
  SetResult result;
  SetOptions nx;
  nx.condition = SetCondition::kIfMissing;
  SetOptions xx;
  xx.condition = SetCondition::kIfExists;

  ks.Set("k", "v");
  CHECK(ks.Take() == Keys{"k"});
  ks.Set("k", "v");  // the same value is still a write, as in Redis
  CHECK(ks.Take() == Keys{"k"});
  REQUIRE_OK(ks->IncrBy("n", 0, &value));
  CHECK(ks.Take() == Keys{"n"});

  REQUIRE_OK(ks->Set("k", "w", nx, &result));
  CHECK_FALSE(result.applied);
  REQUIRE_OK(ks->Set("missing", "w", xx, &result));
  CHECK_FALSE(result.applied);
  CHECK(ks->IncrBy("k", 1, &value).code() == Code::kNotInteger);
  CHECK(ks.Del({"missing"}) == 0);
  REQUIRE_OK(ks->ExpireAt("missing", tally::storage::testing::kStartMs + 1000, {}, &applied));
  CHECK_FALSE(applied);
  REQUIRE_OK(ks->Persist("k", &applied));
  CHECK_FALSE(applied);
  CHECK(ks.Take().empty());

  CHECK(ks.Del({"k", "n", "missing"}) == 2);
  CHECK(ks.Take() == Keys{"k", "n"});
}

TEST_CASE("the write observer hears of writes in groups and transactions, not of the reaper",
          "[keyspace][observer]") {
  ObservedKeyspace ks(/*reaper_interval_ms=*/20);
  struct : GroupListener {
    void OnGroupCommitted(const Status&) override {}
  } listener;
  int64_t value = 0;
  {
    Keyspace::GroupScope scope(*ks, listener);
    REQUIRE_OK(ks->IncrBy("g", 1, &value));
    REQUIRE_OK(ks->IncrBy("g", 1, &value));
    CHECK(ks.Take().empty());  // pending: nobody else can see it yet
    REQUIRE_OK(ks->CommitGroup());
  }
  CHECK(ks.Take() == Keys{"g"});  // at the commit, once, still locked

  REQUIRE_OK(ks->Atomically({"t1", "t2"}, false, [&] {
    REQUIRE_OK(ks->IncrBy("t1", 1, &value));
    CHECK(ks->IncrBy("t2", 0, &value).ok());
  }));
  CHECK(ks.Take() == Keys{"t1", "t2"});

  ks.SetWithExpiry("short", "1", 10);
  CHECK(ks.Take() == Keys{"short"});
  const uint64_t stored = ks->Size();
  ks.Advance(100);
  for (int i = 0; i < 500 && ks->Size() == stored; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(ks->Size() == stored - 1);  // reaped
  CHECK(ks.Take().empty());
}
