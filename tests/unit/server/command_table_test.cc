#include "server/command_table.h"
#include "server/command_docs.h"

#include <set>
#include <string>

#include <catch2/catch.hpp>

using namespace tally::server;

TEST_CASE("every row is complete and every subcommand has its container", "[command_table]") {
  std::set<std::string> names;
  for (const auto& spec : AllCommands()) {
    INFO(spec.name);
    CHECK(names.insert(std::string(spec.name)).second);  // no duplicate rows
    CHECK_FALSE(spec.since.empty());
    CHECK_FALSE(spec.summary.empty());
    CHECK(spec.arity != 0);
    if (IsSubcommand(spec)) {
      const CommandSpec* parent = FindCommand(spec.name.substr(0, spec.name.find('|')));
      REQUIRE(parent != nullptr);
      CHECK(HasSubcommands(*parent));
      CHECK(spec.handler != nullptr);
    } else if (IsContainer(spec)) {
      CHECK(HasSubcommands(spec));
      CHECK(spec.arity == -2);  // a container needs at least its subcommand
    }
    // Key positions: none at all, or a first key with a step.
    if (spec.first_key == 0) {
      CHECK(spec.last_key == 0);
    } else {
      CHECK(spec.key_step > 0);
    }
  }
}

TEST_CASE("lookups are case-insensitive and keep subcommands out of the top level",
          "[command_table]") {
  REQUIRE(FindCommand("InCr") != nullptr);
  CHECK(FindCommand("InCr")->name == "incr");
  CHECK(FindCommand("nosuch") == nullptr);
  CHECK(FindCommand("config|get") == nullptr);  // not a command name clients can send
  const CommandSpec* config = FindCommand("CONFIG");
  REQUIRE(config != nullptr);
  REQUIRE(FindSubcommand(*config, "Get") != nullptr);
  CHECK(FindSubcommand(*config, "Get")->name == "config|get");
  CHECK(FindSubcommand(*config, "nosuch") == nullptr);
  CHECK(FindCommandByFullName("CONFIG|GET") == FindSubcommand(*config, "get"));
  const CommandSpec* command = FindCommand("command");
  REQUIRE(command != nullptr);
  CHECK(command->handler != nullptr);  // COMMAND alone has its own handler ...
  CHECK(HasSubcommands(*command));     // ... and subcommands
  CHECK_FALSE(HasSubcommands(*FindCommand("get")));
}

TEST_CASE("key indexes follow first/last/step", "[command_table]") {
  using V = std::vector<size_t>;
  CHECK(KeyIndexes(*FindCommand("get"), 2) == V{1});
  CHECK(KeyIndexes(*FindCommand("mget"), 4) == V{1, 2, 3});
  CHECK(KeyIndexes(*FindCommand("mset"), 5) == V{1, 3});
  CHECK(KeyIndexes(*FindCommand("ping"), 2).empty());
  CHECK(KeyIndexes(*FindCommandByFullName("object|encoding"), 3) == V{2});
  CHECK(KeyIndexes(*FindCommand("watch"), 3) == V{1, 2});
}

TEST_CASE("every row's argument docs parse", "[command_table][docs]") {
  for (const auto& spec : AllCommands()) {
    INFO(spec.name << ": " << spec.args);
    auto args = ParseCommandArgs(spec.args);
    REQUIRE(args.has_value());
    CHECK(args->empty() == spec.args.empty());
  }
}

TEST_CASE("the compact argument form", "[command_table][docs]") {
  auto args = ParseCommandArgs(
      "key value [condition(NX|XX)] [EX=seconds:integer] key_value(key value)... ip:port");
  REQUIRE(args.has_value());
  REQUIRE(args->size() == 6);
  const auto& a = *args;
  CHECK((a[0].name == "key" && a[0].type == "key"));
  CHECK((a[1].name == "value" && a[1].type == "string"));
  CHECK((a[2].name == "condition" && a[2].type == "oneof" && a[2].optional));
  REQUIRE(a[2].children.size() == 2);
  CHECK((a[2].children[1].type == "pure-token" && a[2].children[1].token == "XX" &&
         a[2].children[1].name == "xx"));
  CHECK((a[3].token == "EX" && a[3].name == "seconds" && a[3].type == "integer" && a[3].optional));
  CHECK((a[4].type == "block" && a[4].multiple && a[4].children.size() == 2));
  CHECK((a[5].name == "ip:port" && a[5].type == "string"));
  CHECK_FALSE(ParseCommandArgs("[unclosed").has_value());
  CHECK_FALSE(ParseCommandArgs("a(b|c d)").has_value());
}
