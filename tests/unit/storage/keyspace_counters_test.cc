// INCRBY and INCRBYFLOAT; expected texts were checked against redis-server 7.0.
#include <climits>
#include <cmath>
#include <string>

#include "keyspace_fixture.h"

using namespace tally::storage;
using tally::storage::testing::TestKeyspace;

namespace {

int64_t MustIncrBy(TestKeyspace& ks, std::string_view key, int64_t delta) {
  int64_t result = 0;
  REQUIRE_OK(ks->IncrBy(key, delta, &result));
  return result;
}

std::string MustIncrByFloat(TestKeyspace& ks, std::string_view key, long double delta) {
  std::string result;
  REQUIRE_OK(ks->IncrByFloat(key, delta, &result));
  return result;
}

}  // namespace

TEST_CASE("INCRBY counts from zero and keeps its result", "[keyspace][counters]") {
  TestKeyspace ks;
  CHECK(MustIncrBy(ks, "c", 1) == 1);
  CHECK(MustIncrBy(ks, "c", 41) == 42);
  CHECK(MustIncrBy(ks, "c", -50) == -8);
  CHECK(ks.Get("c") == "-8");
  CHECK(ks->Size() == 1);
}

TEST_CASE("INCRBY accepts exactly Redis's integers", "[keyspace][counters]") {
  TestKeyspace ks;
  ks.Set("ten", "10");
  CHECK(MustIncrBy(ks, "ten", 1) == 11);
  ks.Set("min", "-9223372036854775808");
  CHECK(MustIncrBy(ks, "min", 1) == LLONG_MIN + 1);

  for (const char* text : {"010", "-0", " 1", "1 ", "+1", "1.0", "", "abc", "9223372036854775808",
                           "12345678901234567890", "-9223372036854775809"}) {
    INFO(text);
    ks.Set("bad", text);
    int64_t result = 0;
    CHECK(ks->IncrBy("bad", 1, &result).code() == Code::kNotInteger);
    CHECK(ks.Get("bad") == text);  // untouched.
  }
}

TEST_CASE("INCRBY stops at the int64 edges", "[keyspace][counters]") {
  TestKeyspace ks;
  int64_t result = 0;

  ks.Set("max", "9223372036854775806");
  CHECK(MustIncrBy(ks, "max", 1) == LLONG_MAX);
  CHECK(ks->IncrBy("max", 1, &result).code() == Code::kOverflow);
  CHECK(ks->IncrBy("max", LLONG_MAX, &result).code() == Code::kOverflow);
  CHECK(ks.Get("max") == "9223372036854775807");

  ks.Set("min", "-9223372036854775808");
  CHECK(ks->IncrBy("min", -1, &result).code() == Code::kOverflow);  // DECR
  CHECK(ks->IncrBy("min", LLONG_MIN, &result).code() == Code::kOverflow);
  CHECK(ks.Get("min") == "-9223372036854775808");
  CHECK(MustIncrBy(ks, "min", LLONG_MAX) == -1);

  CHECK(MustIncrBy(ks, "fresh", LLONG_MIN) == LLONG_MIN);
  CHECK(ks->IncrBy("missing", 0, &result).ok());
  CHECK(result == 0);
}

TEST_CASE("INCRBY keeps the key's TTL", "[keyspace][counters]") {
  TestKeyspace ks;
  ks.SetWithExpiry("c", "5", 100'000);
  const int64_t expire_at = ks->ExpireAtMs("c");
  CHECK(MustIncrBy(ks, "c", 1) == 6);
  CHECK(ks->ExpireAtMs("c") == expire_at);
  CHECK(ks->ExpiringSize() == 1);
}

TEST_CASE("INCRBYFLOAT formats its result as Redis does", "[keyspace][counters]") {
  TestKeyspace ks;
  ks.Set("f", "10.5");
  CHECK(MustIncrByFloat(ks, "f", 0.1L) == "10.6");
  CHECK(ks.Get("f") == "10.6");

  ks.Set("e", "5.0e3");
  CHECK(MustIncrByFloat(ks, "e", 2.0e2L) == "5200");
  ks.Set("i", "10");
  CHECK(MustIncrByFloat(ks, "i", 5.0e3L) == "5010");
  CHECK(MustIncrByFloat(ks, "i", -5010) == "0");
  ks.Set("neg", "10");
  CHECK(MustIncrByFloat(ks, "neg", -10.5L) == "-0.5");
  ks.Set("hex", "0x10");
  CHECK(MustIncrByFloat(ks, "hex", 1) == "17");
  ks.Set("minus-zero", "-0");
  CHECK(MustIncrByFloat(ks, "minus-zero", 1) == "1");

  CHECK(MustIncrByFloat(ks, "new", 0.1L) == "0.1");
  CHECK(MustIncrByFloat(ks, "new", 0.2L) == "0.3");
  CHECK(MustIncrByFloat(ks, "precise", 1.23456789012345678e5L) == "123456.78901234567800316");

  // A whole-number result is stored int-encoded, so INCR works on it again.
  ks.Set("h", "3");
  CHECK(MustIncrByFloat(ks, "h", 1.5L) == "4.5");
  CHECK(MustIncrByFloat(ks, "h", 0.5L) == "5");
  CHECK(MustIncrBy(ks, "h", 1) == 6);
}

TEST_CASE("INCRBYFLOAT rejects what Redis rejects", "[keyspace][counters]") {
  TestKeyspace ks;
  std::string result;
  for (const char* text : {" 1", "1 ", "abc", "", "nan"}) {
    INFO(text);
    ks.Set("bad", text);
    CHECK(ks->IncrByFloat("bad", 1, &result).code() == Code::kNotFloat);
    CHECK(ks.Get("bad") == text);
  }

  ks.Set("inf", "inf");
  CHECK(ks->IncrByFloat("inf", 1, &result).code() == Code::kNanOrInf);
  CHECK(ks.Get("inf") == "inf");
  ks.Set("one", "1");
  CHECK(ks->IncrByFloat("one", INFINITY, &result).code() == Code::kNanOrInf);
  CHECK(ks->IncrByFloat("missing", -INFINITY, &result).code() == Code::kNanOrInf);
  CHECK(ks.Missing("missing"));
}

TEST_CASE("INCRBYFLOAT keeps the key's TTL", "[keyspace][counters]") {
  TestKeyspace ks;
  ks.SetWithExpiry("f", "1", 100'000);
  CHECK(MustIncrByFloat(ks, "f", 0.5L) == "1.5");
  CHECK(ks->TtlMs("f") == 100'000);
}
