#include "storage/layout.h"

#include <string>

#include <catch2/catch.hpp>

namespace layout = tally::storage::layout;
using namespace std::string_literals;

TEST_CASE("PrefixSuccessor bounds exactly the keys with the prefix", "[layout]") {
  CHECK(layout::PrefixSuccessor("usage:") == "usage;");
  CHECK(layout::PrefixSuccessor("a\xff"s) == "b");
  CHECK(layout::PrefixSuccessor("a\xfe\xff\xff"s) == "a\xff"s);
  CHECK(layout::PrefixSuccessor("\0"s) == "\x01"s);
  CHECK_FALSE(layout::PrefixSuccessor("").has_value());
  CHECK_FALSE(layout::PrefixSuccessor("\xff\xff"s).has_value());
}

TEST_CASE("expiry index entries sort by time first", "[layout]") {
  const std::string early = layout::ExpiryIndexKey(255, "zzz");
  const std::string later = layout::ExpiryIndexKey(256, "aaa");
  const std::string much_later = layout::ExpiryIndexKey(1'700'000'000'000, "");
  CHECK(early < later);
  CHECK(later < much_later);

  // Everything due at or before `now` sorts below the bound, nothing after it.
  CHECK(layout::ExpiryIndexKey(1000, "\xff\xff"s) < layout::ExpiryIndexBound(1000));
  CHECK_FALSE(layout::ExpiryIndexKey(1001, "") < layout::ExpiryIndexBound(1000));

  const std::string entry = layout::ExpiryIndexKey(5, "k\0ey"s);
  std::string_view key;
  REQUIRE(layout::ParseExpiryIndexKey(entry, &key));
  CHECK(key == "k\0ey"s);
  CHECK_FALSE(layout::ParseExpiryIndexKey("short", &key));
}

TEST_CASE("cursor keys and states round-trip", "[layout]") {
  uint64_t id = 0;
  REQUIRE(layout::ParseCursorKey(layout::CursorKey((uint64_t{1} << 53) - 1), &id));
  CHECK(id == (uint64_t{1} << 53) - 1);
  CHECK(layout::CursorKey(2) < layout::CursorKey(256));
  CHECK_FALSE(layout::ParseCursorKey("iter:1", &id));

  layout::CursorState written{42, 7, "last\0key"s, "prev"};
  layout::CursorState state;
  REQUIRE(layout::DecodeCursorState(layout::EncodeCursorState(written), &state));
  CHECK(state.used_ms == 42);
  CHECK(state.step == 7);
  CHECK(state.last_key == "last\0key"s);
  CHECK(state.previous_key == "prev");
  CHECK_FALSE(layout::DecodeCursorState("1234567", &state));
  // A length past the end is refused, not read out of bounds.
  std::string truncated = layout::EncodeCursorState(written);
  truncated.resize(26);
  CHECK_FALSE(layout::DecodeCursorState(truncated, &state));

  int64_t value = 0;
  REQUIRE(layout::DecodeInt64(layout::EncodeInt64(-5), &value));
  CHECK(value == -5);
}
