#include "server/command_stats.h"

#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "server/command_table.h"

using namespace tally::server;

TEST_CASE("command stats count calls, failures and rejections per command", "[stats]") {
  CommandStats stats;
  CHECK(stats.Collect().empty());
  const CommandSpec& incr = *FindCommand("incr");
  const CommandSpec& config_get = *FindCommandByFullName("config|get");
  stats.RecordCall(incr, 1500, false);
  stats.RecordCall(incr, 2500, true);
  stats.RecordRejected(incr);
  stats.RecordRejected(config_get);
  auto totals = stats.Collect();
  REQUIRE(totals.size() == 2);
  // Table order: incr comes before config|get.
  CHECK(totals[0].spec == &incr);
  CHECK(totals[0].calls() == 2);
  CHECK(totals[0].latency_ns.sum == 4000);
  CHECK(totals[0].failed == 1);
  CHECK(totals[0].rejected == 1);
  CHECK(totals[1].spec == &config_get);
  CHECK(totals[1].calls() == 0);
  CHECK(totals[1].rejected == 1);
  CHECK(stats.TotalCalls() == 2);

  stats.Reset();
  CHECK(stats.Collect().empty());
  CHECK(stats.TotalCalls() == 0);
}

TEST_CASE("command stats merge the shards of many threads", "[stats]") {
  CommandStats stats;
  const CommandSpec& get = *FindCommand("get");
  std::vector<std::thread> threads;
  for (int t = 0; t < 20; ++t) {  // more threads than shards: some share one
    threads.emplace_back([&] {
      for (int i = 0; i < 5000; ++i) stats.RecordCall(get, 100, i % 10 == 0);
    });
  }
  for (auto& thread : threads) thread.join();
  auto totals = stats.Collect();
  REQUIRE(totals.size() == 1);
  CHECK(totals[0].calls() == 100000);
  CHECK(totals[0].failed == 10000);
  CHECK(totals[0].latency_ns.sum == 10000000);
}
