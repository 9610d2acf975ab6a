// GET/SET and friends on a real keyspace.
#include <climits>
#include <string>

#include "keyspace_fixture.h"

using namespace tally::storage;
using tally::storage::testing::TestKeyspace;
using namespace std::string_literals;

TEST_CASE("GET returns exactly what SET stored, whatever the encoding", "[keyspace][strings]") {
  TestKeyspace ks;
  for (std::string text : {"10"s, "010"s, "-0"s, " 1"s, "+1"s, "0"s, "-9223372036854775808"s,
                           "9223372036854775808"s, "12345678901234567890"s, ""s, "bin\0\xff"s}) {
    INFO(text);
    ks.Set("k", text);
    CHECK(ks.Get("k") == text);
  }
  std::string value;
  CHECK(ks->Get("missing", &value).code() == Code::kNotFound);
}

TEST_CASE("SET NX, XX and GET follow Redis", "[keyspace][strings]") {
  TestKeyspace ks;
  SetResult result;
  SetOptions nx;
  nx.condition = SetCondition::kIfMissing;
  SetOptions xx;
  xx.condition = SetCondition::kIfExists;

  REQUIRE_OK(ks->Set("k", "1", xx, &result));
  CHECK_FALSE(result.applied);
  CHECK(ks.Missing("k"));

  REQUIRE_OK(ks->Set("k", "1", nx, &result));
  CHECK(result.applied);
  REQUIRE_OK(ks->Set("k", "2", nx, &result));
  CHECK_FALSE(result.applied);
  CHECK(ks.Get("k") == "1");

  REQUIRE_OK(ks->Set("k", "3", xx, &result));
  CHECK(result.applied);
  CHECK(ks.Get("k") == "3");

  SECTION("GET returns the old value, even when NX prevents the write") {
    SetOptions nx_get = nx;
    nx_get.get_old = true;
    REQUIRE_OK(ks->Set("k", "4", nx_get, &result));
    CHECK_FALSE(result.applied);
    CHECK(result.old_value == "3");
    CHECK(ks.Get("k") == "3");

    SetOptions get;
    get.get_old = true;
    REQUIRE_OK(ks->Set("k", "5", get, &result));
    CHECK(result.applied);
    CHECK(result.old_value == "3");
    REQUIRE_OK(ks->Set("other", "x", get, &result));
    CHECK(result.applied);
    CHECK_FALSE(result.old_value.has_value());
  }
}

TEST_CASE("MSET writes every pair; a later pair wins over an earlier one", "[keyspace][strings]") {
  TestKeyspace ks;
  REQUIRE_OK(ks->MSet({{"a", "1"}, {"b", "2"}, {"a", "3"}, {"c", "x"}}));
  CHECK(ks.Get("a") == "3");
  CHECK(ks.Get("b") == "2");
  CHECK(ks.Get("c") == "x");
  CHECK(ks->Size() == 3);

  ks.SetWithExpiry("b", "old", 10'000);
  REQUIRE_OK(ks->MSet({{"b", "new"}}));
  CHECK(ks->TtlMs("b") == -1);  // MSET clears the TTL of what it overwrites.
  CHECK(ks->ExpiringSize() == 0);
  CHECK(ks->Size() == 3);
}

TEST_CASE("MSETNX writes all pairs or none", "[keyspace][strings]") {
  TestKeyspace ks;
  bool applied = false;
  REQUIRE_OK(ks->MSetNx({{"a", "1"}, {"b", "2"}, {"a", "3"}}, &applied));
  CHECK(applied);
  CHECK(ks.Get("a") == "3");

  REQUIRE_OK(ks->MSetNx({{"c", "1"}, {"b", "9"}}, &applied));
  CHECK_FALSE(applied);
  CHECK(ks.Missing("c"));
  CHECK(ks.Get("b") == "2");

  ks.SetWithExpiry("gone", "x", 10);
  ks.Advance(10);
  REQUIRE_OK(ks->MSetNx({{"gone", "back"}, {"d", "1"}}, &applied));
  CHECK(applied);  // an expired key counts as missing.
  CHECK(ks.Get("gone") == "back");
  CHECK(ks->Size() == 4);
}

TEST_CASE("MGET, EXISTS and TYPE", "[keyspace][strings]") {
  TestKeyspace ks;
  ks.Set("a", "1");
  ks.Set("b", "text");
  std::vector<std::optional<std::string>> values;
  REQUIRE_OK(ks->MGet({"a", "nope", "b", "a"}, &values));
  CHECK(values == std::vector<std::optional<std::string>>{"1", std::nullopt, "text", "1"});

  CHECK(ks->Exists({"a", "a", "nope", "b"}) == 3);  // a key named twice counts twice.
  CHECK(ks->Exists({}) == 0);
  CHECK(ks->Type("a") == KeyType::kString);
  CHECK(ks->Type("nope") == KeyType::kNone);
}

TEST_CASE("GETDEL returns the value and removes the key", "[keyspace][strings]") {
  TestKeyspace ks;
  ks.Set("k", "42");
  std::string value;
  REQUIRE_OK(ks->GetDel("k", &value));
  CHECK(value == "42");
  CHECK(ks.Missing("k"));
  CHECK(ks->Size() == 0);
  CHECK(ks->GetDel("k", &value).code() == Code::kNotFound);
}

TEST_CASE("STRLEN measures the value as GET returns it", "[keyspace][strings]") {
  TestKeyspace ks;
  int64_t length = -1;
  ks.Set("int", "-12345");
  REQUIRE_OK(ks->Strlen("int", &length));
  CHECK(length == 6);
  ks.Set("raw", "a\0b"s);
  REQUIRE_OK(ks->Strlen("raw", &length));
  CHECK(length == 3);
  int64_t counter = 0;
  REQUIRE_OK(ks->IncrBy("counter", LLONG_MIN, &counter));
  REQUIRE_OK(ks->Strlen("counter", &length));
  CHECK(length == 20);
  REQUIRE_OK(ks->Strlen("missing", &length));
  CHECK(length == 0);
}

TEST_CASE("DEL counts the keys that existed, each once", "[keyspace][strings]") {
  TestKeyspace ks;
  ks.Set("a", "1");
  ks.Set("b", "2");
  CHECK(ks.Del({"a", "a", "missing", "b"}) == 2);
  CHECK(ks->Size() == 0);
  CHECK(ks.Del({"a"}) == 0);
  CHECK(ks.Del({}) == 0);
}
