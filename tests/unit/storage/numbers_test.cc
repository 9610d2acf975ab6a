#include "storage/numbers.h"

#include <catch2/catch.hpp>
#include <limits>

using tally::FormatInt64;
using tally::FormatLongDoubleHuman;
using tally::ParseInt64;
using tally::ParseLongDouble;

TEST_CASE("ParseInt64 follows Redis's string2ll", "[numbers]") {
  CHECK(ParseInt64("0") == 0);
  CHECK(ParseInt64("1") == 1);
  CHECK(ParseInt64("-1") == -1);
  CHECK(ParseInt64("9223372036854775807") == std::numeric_limits<int64_t>::max());
  CHECK(ParseInt64("-9223372036854775808") == std::numeric_limits<int64_t>::min());
  CHECK_FALSE(ParseInt64("9223372036854775808"));
  CHECK_FALSE(ParseInt64("-9223372036854775809"));
  CHECK_FALSE(ParseInt64("18446744073709551616"));
  CHECK_FALSE(ParseInt64("99999999999999999999"));
  CHECK_FALSE(ParseInt64(""));
  CHECK_FALSE(ParseInt64("-"));
  CHECK_FALSE(ParseInt64("-0"));
  CHECK_FALSE(ParseInt64("00"));
  CHECK_FALSE(ParseInt64("010"));
  CHECK_FALSE(ParseInt64("+1"));
  CHECK_FALSE(ParseInt64(" 1"));
  CHECK_FALSE(ParseInt64("1 "));
  CHECK_FALSE(ParseInt64("1a"));
  CHECK_FALSE(ParseInt64("1.0"));
  CHECK_FALSE(ParseInt64(std::string("1\0", 2)));
  CHECK_FALSE(ParseInt64("000000000000000000001"));
}

TEST_CASE("FormatInt64 round-trips", "[numbers]") {
  for (int64_t v : {int64_t{0}, int64_t{-1}, int64_t{42}, std::numeric_limits<int64_t>::max(),
                    std::numeric_limits<int64_t>::min()}) {
    CHECK(ParseInt64(FormatInt64(v)) == v);
  }
  CHECK(FormatInt64(-42) == "-42");
}

TEST_CASE("ParseLongDouble follows Redis's string2ld", "[numbers]") {
  CHECK(ParseLongDouble("1.5") == 1.5L);
  CHECK(ParseLongDouble("5.0e3") == 5000.0L);
  CHECK(ParseLongDouble("-0.25") == -0.25L);
  CHECK(ParseLongDouble("inf"));
  CHECK_FALSE(ParseLongDouble("nan"));
  CHECK_FALSE(ParseLongDouble(""));
  CHECK_FALSE(ParseLongDouble(" 1.5"));
  CHECK_FALSE(ParseLongDouble("1.5 "));
  CHECK_FALSE(ParseLongDouble("1.5x"));
  CHECK_FALSE(ParseLongDouble("1e99999"));
  CHECK_FALSE(ParseLongDouble(std::string(6000, '1')));
}

TEST_CASE("FormatLongDoubleHuman matches Redis's INCRBYFLOAT output", "[numbers]") {
  CHECK(FormatLongDoubleHuman(10.5L + 0.1L) == "10.6");
  CHECK(FormatLongDoubleHuman(5000.0L) == "5000");
  CHECK(FormatLongDoubleHuman(3.0L) == "3");
  CHECK(FormatLongDoubleHuman(-0.0L) == "0");
  CHECK(FormatLongDoubleHuman(1.0e-20L) == "0");
  CHECK(FormatLongDoubleHuman(*ParseLongDouble("10.5") + *ParseLongDouble("0.1")) == "10.6");
}
