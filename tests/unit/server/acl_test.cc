// Users, ACL rules and protected mode (server/acl.h). The ACL LIST lines and
// error texts were taken from redis-server 7.0.15 loading the same ACL file.
#include "server/acl.h"

#include <catch2/catch.hpp>
#include <string>

#include "server/command_table.h"
#include "server/config.h"

using namespace tally::server;
using acl::User;
using acl::UserDirectory;

namespace {

const CommandSpec& Spec(std::string_view full_name) {
  const CommandSpec* spec = FindCommandByFullName(full_name);
  REQUIRE(spec != nullptr);
  return *spec;
}

UserDirectory Parse(std::string_view text) {
  UserDirectory users;
  auto err = UserDirectory::ParseAclFile(text, "users.acl", &users);
  INFO(err.value_or(""));
  REQUIRE_FALSE(err);
  return users;
}

std::string ParseError(std::string_view text) {
  UserDirectory users;
  return UserDirectory::ParseAclFile(text, "users.acl", &users).value_or("");
}

std::shared_ptr<User> FromSetting(std::string_view value) {
  std::shared_ptr<User> user;
  auto err = acl::ParseUserSetting(value, &user);
  INFO(err.value_or(""));
  REQUIRE_FALSE(err);
  return user;
}

}  // namespace

TEST_CASE("an ACL file is read as redis-server reads it", "[acl]") {
  const UserDirectory users = Parse(
      "user default on nopass ~* &* +@all\n"
      "user alice on >alicepw ~* &* +@all\n"
      "\n"
      "user ro on >ropw ~* +@read\r\n"
      "user bob off >bobpw ~* +@all\n"
      "user carl on >c1 >c2 ~* &* +@all -@write -@admin\n"
      "user nokeys on >nk +@all\n");
  std::vector<std::string> lines;
  for (const auto& user : users.All("")) lines.push_back(user->Describe());
  // ACL LIST of redis-server 7.0.15 with the same file, byte for byte.
  CHECK(lines ==
        std::vector<std::string>{
            "user alice on #6624974ea2baffac164422e4490376c1c31313cd97724ae8ce62fb3f0a0370f2 ~* &* "
            "+@all",
            "user bob off #e8f318657ce39ec4edeecbbee28fd72dea2261d8a6b2155ce4977393e0ea721b ~* "
            "resetchannels +@all",
            "user carl on #d0f631ca1ddba8db3bcfcb9e057cdc98d0379f1bee00e75a545147a27dadd982 "
            "#9c0abe51c6e6655d81de2d044d4fb194931f058c0426c67c7285d8f5657ed64a ~* &* +@all -@write "
            "-@admin",
            "user default on nopass ~* &* +@all",
            "user nokeys on #cf50252908e527ebc5cacf537c3a4495a0c0ce5e1f0ec383b18290642cc8afaa "
            "resetchannels +@all",
            "user ro on #f3d8f853b028f03793032c613ccfdd8a0941922f670b9bb8725f67a5d4b09ce8 ~* "
            "resetchannels -@all +@read",
        });
  CHECK(users.Find("nobody", "") == nullptr);
  CHECK(users.Find("alice", "")->CheckPassword("alicepw"));
  CHECK_FALSE(users.Find("alice", "")->CheckPassword("alicepw "));
  CHECK_FALSE(users.Find("alice", "")->CheckPassword(""));
  CHECK(users.Find("carl", "")->CheckPassword("c1"));
  CHECK(users.Find("carl", "")->CheckPassword("c2"));
  CHECK_FALSE(users.Find("bob", "")->enabled());
  CHECK_FALSE(users.Find("nokeys", "")->all_keys());
}

TEST_CASE("ACL file errors name the file and line", "[acl]") {
  // Redis's own messages where Redis refuses the line too.
  CHECK(ParseError("user a on >p ~* +@all\nuser b on >q ~* +@bogus\n") ==
        "users.acl:2: Error in applying operation '+@bogus': Unknown command or category name "
        "in ACL.");
  CHECK(ParseError("user c on foo\n") ==
        "users.acl:1: Error in applying operation 'foo': Syntax error.");
  CHECK(ParseError("hello world\n") ==
        "users.acl:1 should start with user keyword followed by the username.");
  CHECK(ParseError("user a on\n# a comment\n") ==
        "users.acl:2 should start with user keyword followed by the username.");
  CHECK(ParseError("user\n") ==
        "users.acl:1 should start with user keyword followed by the username.");
  CHECK(ParseError("user a on\nuser a off\n") == "users.acl:2: duplicate user 'a'");
  CHECK(ParseError("user a on #abc\n") ==
        "users.acl:1: Error in applying operation '#abc': The password hash must be exactly 64 "
        "characters and contain only lowercase hexadecimal characters.");
  CHECK(ParseError("user a on <nothere\n") ==
        "users.acl:1: Error in applying operation '<nothere': The password you are trying to "
        "remove from the user does not exist.");
  CHECK(ParseError("user a on +nosuchcommand\n") ==
        "users.acl:1: Error in applying operation '+nosuchcommand': Unknown command or category "
        "name in ACL.");
  // Rules Redis has and Tally cannot honour exactly are refused, never ignored.
  CHECK(ParseError("user a on >p ~cache:* +@all\n")
            .starts_with(
                "users.acl:1: Error in applying operation '~cache:*': Tally supports only '~*'"));
  CHECK(ParseError("user a on %R~* +@all\n")
            .starts_with(
                "users.acl:1: Error in applying operation '%R~*': Tally supports only '~*'"));
  CHECK(ParseError("user a on &news +@all\n")
            .starts_with(
                "users.acl:1: Error in applying operation '&news': Tally supports only '&*'"));
  CHECK(
      ParseError("user a on (~* +get)\n")
          .starts_with(
              "users.acl:1: Error in applying operation '(~*': Tally does not support selectors"));
}

TEST_CASE("command rules select commands by the table's categories", "[acl]") {
  const UserDirectory users = Parse(
      "user ro on >p ~* +@read\n"
      "user cfg on >p ~* -@all +config|get +client\n"
      "user most on >p ~* +@all -@write +incr -flushall\n");
  const auto ro = users.Find("ro", "");
  CHECK(ro->CanRun(Spec("get")));
  CHECK(ro->CanRun(Spec("mget")));
  CHECK(ro->CanRun(Spec("scan")));
  CHECK(ro->CanRun(Spec("object|encoding")));
  CHECK_FALSE(ro->CanRun(Spec("incr")));
  CHECK_FALSE(ro->CanRun(Spec("set")));
  CHECK_FALSE(ro->CanRun(Spec("ping")));  // @connection, not @read: as in Redis
  CHECK_FALSE(ro->CanRun(Spec("multi")));
  // Commands allowed before AUTH are never refused.
  for (auto name : {"auth", "hello", "quit", "reset"}) CHECK(ro->CanRun(Spec(name)));

  const auto cfg = users.Find("cfg", "");
  CHECK(cfg->CanRun(Spec("config|get")));
  CHECK_FALSE(cfg->CanRun(Spec("config|set")));
  CHECK(cfg->CanRun(Spec("client|list")));  // a whole command takes its subcommands
  CHECK(cfg->CanRun(Spec("client|kill")));
  CHECK_FALSE(cfg->CanRun(Spec("get")));
  // sha256("p"), as redis-server prints it.
  CHECK(cfg->Describe() ==
        "user cfg on #148de9c5a7a44d19e56cd9ae1a554bf67847afb0c58f6e12fa29ac7ddfca9940 ~* "
        "resetchannels -@all +config|get +client");

  const auto most = users.Find("most", "");
  CHECK(most->CanRun(Spec("incr")));
  CHECK(most->CanRun(Spec("get")));
  CHECK_FALSE(most->CanRun(Spec("decr")));
  CHECK_FALSE(most->CanRun(Spec("flushall")));
  CHECK(most->CanRun(Spec("config|set")));  // only @write was taken away

  // Every write command of the table is in @write, so +@all -@write can never write.
  const auto no_writes = FromSetting("w on >p ~* +@all -@write");
  for (const auto& spec : AllCommands()) {
    if (spec.flags & kWrite) {
      INFO(spec.name);
      CHECK_FALSE(no_writes->CanRun(spec));
    }
  }
}

TEST_CASE("later rules replace earlier ones, and reset starts over", "[acl]") {
  auto user = FromSetting("u on >p ~* +@read +@read -get +get");
  CHECK(user->CanRun(Spec("get")));
  CHECK(user->Describe().ends_with(" -@all +@read +get"));
  CHECK(user->ApplyRule("+@all") == std::nullopt);
  CHECK(user->Describe().ends_with(" ~* resetchannels +@all"));
  CHECK(user->ApplyRule("nopass") == std::nullopt);
  CHECK(user->CheckPassword("anything"));
  CHECK(user->ApplyRule("reset") == std::nullopt);
  // As redis-server shows a user after ACL SETUSER u reset.
  CHECK(user->Describe() == "user u off sanitize-payload resetchannels -@all");
  CHECK_FALSE(user->CheckPassword("p"));
  CHECK(user->ApplyRule("#" + std::string(64, 'a')) == std::nullopt);
  CHECK(user->ApplyRule("!" + std::string(64, 'a')) == std::nullopt);
  CHECK(user->ApplyRule("!" + std::string(64, 'a')) ==
        "The password you are trying to remove from the user does not exist");
  CHECK(user->ApplyRule("ON") == std::nullopt);  // rules are case-insensitive
  CHECK(user->enabled());
}

TEST_CASE("the user setting: NAME:PASSWORD[:readonly] or redis.conf's rules", "[acl]") {
  const auto full = FromSetting("alice:s3:cret");
  CHECK(full->name() == "alice");
  CHECK(full->CheckPassword("s3:cret"));
  CHECK(full->CanRun(Spec("flushall")));
  CHECK(full->Describe().ends_with(" ~* &* +@all"));

  const auto ro = FromSetting("viewer:pw:readonly");
  CHECK(ro->CheckPassword("pw"));
  CHECK_FALSE(ro->CheckPassword("pw:readonly"));
  CHECK(ro->Describe().ends_with(" ~* &* +@all -@write -@admin"));
  for (auto name : {"get", "mget", "keys", "scan", "ttl", "ping", "info", "multi", "exec",
                    "client|setname", "command|docs", "dbsize"}) {
    INFO(name);
    CHECK(ro->CanRun(Spec(name)));
  }
  for (auto name : {"incr", "set", "del", "expire", "flushall", "config|set", "config|get",
                    "shutdown", "client|kill", "save", "function|flush"}) {
    INFO(name);
    CHECK_FALSE(ro->CanRun(Spec(name)));
  }

  const auto rules = FromSetting("bob on >pw ~* +@read");
  CHECK(rules->name() == "bob");
  CHECK(rules->CanRun(Spec("get")));
  CHECK_FALSE(rules->CanRun(Spec("incr")));

  std::shared_ptr<User> user;
  for (auto bad : {"alice", "alice:", ":pw", "", "bob on >pw ~x*", "bob on bogus"}) {
    INFO(bad);
    CHECK(acl::ParseUserSetting(bad, &user).has_value());
  }
}

TEST_CASE("requirepass is the default user's password", "[acl]") {
  UserDirectory users;
  CHECK(users.Default("")->nopass());
  CHECK(users.Default("")->CheckPassword("anything"));
  const auto with_password = users.Default("pw");
  CHECK_FALSE(with_password->nopass());
  CHECK(with_password->CheckPassword("pw"));
  CHECK_FALSE(with_password->CheckPassword("p"));
  // ACL LIST of redis-server --requirepass pw.
  CHECK(with_password->Describe() ==
        "user default on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 ~* &* "
        "+@all");

  Config config;
  config.users = {"alice:pw", "default:dpw"};
  config.requirepass = "other";
  CHECK(UserDirectory::Load(config, &users).value_or("").find("requirepass") != std::string::npos);
  config.requirepass.clear();
  REQUIRE_FALSE(UserDirectory::Load(config, &users));
  CHECK(users.Default("")->CheckPassword("dpw"));
  CHECK_FALSE(users.Default("")->CheckPassword("x"));
  config.users = {"alice:pw", "alice:pw2"};
  CHECK(UserDirectory::Load(config, &users) == "invalid 'user' setting: duplicate user 'alice'");
  config.aclfile = "users.acl";
  CHECK(UserDirectory::Load(config, &users).value_or("").find("both") != std::string::npos);
  config.users.clear();
  config.aclfile = "/nonexistent/users.acl";
  CHECK(UserDirectory::Load(config, &users) == "cannot read the ACL file '/nonexistent/users.acl'");
}

TEST_CASE("protected mode refuses non-loopback clients only without a default password",
          "[acl][protected-mode]") {
  using boost::asio::ip::make_address;
  UserDirectory users;
  const auto open = users.Default("");
  const auto locked = users.Default("pw");
  for (auto peer : {"127.0.0.1", "::1", "::ffff:127.0.0.1"}) {
    INFO(peer);
    CHECK_FALSE(acl::ProtectedModeRejects(true, *open, make_address(peer)));
  }
  // Redis compares with "127.0.0.1" and "::1" exactly.
  for (auto peer : {"10.0.0.5", "192.168.1.20", "203.0.113.9", "2001:db8::1", "::ffff:10.0.0.1",
                    "127.0.0.2", "fe80::1"}) {
    INFO(peer);
    CHECK(acl::ProtectedModeRejects(true, *open, make_address(peer)));
    CHECK_FALSE(acl::ProtectedModeRejects(false, *open, make_address(peer)));
    CHECK_FALSE(acl::ProtectedModeRejects(true, *locked, make_address(peer)));
  }
  // Only the default user's password counts, as in Redis.
  const UserDirectory named = Parse("user alice on >pw ~* +@all\n");
  CHECK(acl::ProtectedModeRejects(true, *named.Default(""), make_address("10.0.0.5")));
  CHECK(acl::kProtectedModeError.starts_with("-DENIED Redis is running in protected mode"));
  CHECK(acl::kProtectedModeError.ends_with("accepting connections from the outside.\r\n"));
}

TEST_CASE("secrets compare by digest", "[acl]") {
  CHECK(acl::SameSecret("token-1", "token-1"));
  CHECK(acl::SameSecret("", ""));
  CHECK_FALSE(acl::SameSecret("token-1", "token-2"));
  CHECK_FALSE(acl::SameSecret("token-1", "token-1 "));
  CHECK_FALSE(acl::SameSecret("token", ""));
  CHECK_FALSE(acl::SameSecret(std::string("a\0b", 3), "a"));
}
