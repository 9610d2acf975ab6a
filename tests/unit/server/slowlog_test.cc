#include "server/slowlog.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "server/client_registry.h"
#include "server/command_table.h"
#include "tests/unit/numbered.h"

using namespace tally::server;
using tally::testing::Numbered;

namespace {

std::vector<std::string> Args(std::initializer_list<std::string> args) { return args; }

}  // namespace

TEST_CASE("slow log threshold: negative logs nothing, 0 logs everything", "[slowlog]") {
  SlowLog log;
  CHECK_FALSE(log.IsSlow(9999));  // Redis's default: 10000 us
  CHECK(log.IsSlow(10000));
  log.Configure(0, 128);
  CHECK(log.IsSlow(0));
  log.Configure(-1, 128);
  CHECK_FALSE(log.IsSlow(1000000000));
}

TEST_CASE("slow log keeps the newest max-len entries, newest first", "[slowlog]") {
  SlowLog log;
  log.Configure(0, 3);
  const CommandSpec& get = *FindCommand("get");
  ClientRecord client;
  client.addr = "127.0.0.1:5000";
  client.set_name("worker");
  for (int i = 0; i < 5; ++i) log.Add(get, Args({"GET", Numbered("k", i)}), 7, &client);
  CHECK(log.Length() == 3);
  auto entries = log.Newest(-1);
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].id == 4);
  CHECK(entries[0].args == Args({"GET", "k4"}));
  CHECK(entries[2].id == 2);
  CHECK(entries[0].duration_us == 7);
  CHECK(entries[0].client_addr == "127.0.0.1:5000");
  CHECK(entries[0].client_name == "worker");
  CHECK(log.Newest(1).size() == 1);
  CHECK(log.Newest(0).empty());
  // A smaller maximum trims at the next entry; RESET keeps the ids going.
  log.Configure(0, 1);
  CHECK(log.Length() == 3);
  log.Add(get, Args({"GET", "x"}), 1, nullptr);
  CHECK(log.Length() == 1);
  log.Reset();
  CHECK(log.Length() == 0);
  log.Add(get, Args({"GET", "y"}), 1, nullptr);
  CHECK(log.Newest(1)[0].id == 6);
  CHECK(log.Newest(1)[0].client_addr.empty());
}

TEST_CASE("slow log trims arguments and redacts passwords like Redis", "[slowlog]") {
  SlowLog log;
  log.Configure(0, 128);
  std::vector<std::string> del = {"DEL"};
  for (int i = 0; i < 40; ++i) del.push_back(Numbered("k", i));
  log.Add(*FindCommand("del"), del, 1, nullptr);
  auto entry = log.Newest(1)[0];
  REQUIRE(entry.args.size() == 32);
  CHECK(entry.args[30] == "k29");
  CHECK(entry.args[31] == "... (10 more arguments)");

  log.Add(*FindCommand("echo"), Args({"ECHO", std::string(200, 'a')}), 1, nullptr);
  CHECK(log.Newest(1)[0].args[1] == std::string(128, 'a') + "... (72 more bytes)");

  log.Add(*FindCommand("auth"), Args({"AUTH", "user", "secret"}), 1, nullptr);
  CHECK(log.Newest(1)[0].args == Args({"AUTH", "(redacted)", "(redacted)"}));
  log.Add(*FindCommand("hello"), Args({"HELLO", "3", "SETNAME", "n", "auth", "u", "p"}), 1,
          nullptr);
  CHECK(log.Newest(1)[0].args ==
        Args({"HELLO", "3", "SETNAME", "n", "auth", "(redacted)", "(redacted)"}));
}
