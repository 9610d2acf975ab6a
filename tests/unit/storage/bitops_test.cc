#include "storage/bitops.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace bits = tally::storage::bits;
using bits::FieldOp;
using bits::Overflow;

// Expected values come from a real redis-server 7.0.15 given the same
// commands (and Redis's own tests/unit/bitops.tcl and bitfield.tcl).

TEST_CASE("bitops: offsets and field types parse as Redis does", "[bitops]") {
  const int64_t max = 512LL << 20;
  CHECK(bits::ParseOffset("0", 0, max) == 0u);
  CHECK(bits::ParseOffset("4294967295", 0, max) == 4294967295u);
  CHECK_FALSE(bits::ParseOffset("4294967296", 0, max));  // byte 2^29 == limit
  CHECK_FALSE(bits::ParseOffset("-1", 0, max));
  CHECK_FALSE(bits::ParseOffset("1.5", 0, max));
  CHECK_FALSE(bits::ParseOffset("#1", 0, max));  // '#' only for BITFIELD
  CHECK(bits::ParseOffset("#3", 8, max) == 24u);
  CHECK_FALSE(bits::ParseOffset("#-1", 8, max));
  CHECK_FALSE(bits::ParseOffset("#9223372036854775807", 8, max));
  CHECK(bits::ParseOffset("80", 0, 11) == 80u);
  CHECK_FALSE(bits::ParseOffset("88", 0, 11));

  CHECK(bits::ParseFieldType("i64")->bits == 64);
  CHECK(bits::ParseFieldType("u63")->bits == 63);
  CHECK_FALSE(bits::ParseFieldType("u64"));
  CHECK_FALSE(bits::ParseFieldType("i65"));
  CHECK_FALSE(bits::ParseFieldType("i0"));
  CHECK_FALSE(bits::ParseFieldType("x8"));
  CHECK_FALSE(bits::ParseFieldType("i"));
  CHECK_FALSE(bits::ParseFieldType(""));
  CHECK(bits::ParseFieldType("u8")->is_signed == false);
}

TEST_CASE("bitops: GETBIT and SETBIT", "[bitops]") {
  std::string v;
  CHECK(bits::SetBit(&v, 7, 1) == 0);
  CHECK(v == std::string("\x01", 1));
  CHECK(bits::SetBit(&v, 7, 1) == 1);
  CHECK(bits::SetBit(&v, 0, 1) == 0);
  CHECK(v == "\x81");
  CHECK(bits::SetBit(&v, 23, 1) == 0);  // grows with zero bytes
  CHECK(v == std::string("\x81\x00\x01", 3));
  CHECK(bits::SetBit(&v, 0, 0) == 1);
  CHECK(bits::GetBit(v, 0) == 0);
  CHECK(bits::GetBit(v, 7) == 1);
  CHECK(bits::GetBit(v, 23) == 1);
  CHECK(bits::GetBit(v, 24) == 0);
  CHECK(bits::GetBit(v, 1u << 30) == 0);
}

TEST_CASE("bitops: BITCOUNT with BYTE and BIT ranges", "[bitops]") {
  using R = bits::Range;
  CHECK(bits::BitCount("foobar", std::nullopt) == 26);
  CHECK(bits::BitCount("foobar", R{1, 1, false}) == 6);
  CHECK(bits::BitCount("foobar", R{5, 30, true}) == 17);
  CHECK(bits::BitCount("foobar", R{-3, -1, true}) == 1);
  CHECK(bits::BitCount("foobar", R{-1, -3, false}) == 0);
  CHECK(bits::BitCount("foobar", R{3, 1, false}) == 0);
  CHECK(bits::BitCount("foobar", R{0, 1000, false}) == 26);
  CHECK(bits::BitCount("", R{0, -1, false}) == 0);
}

TEST_CASE("bitops: BITPOS with BYTE and BIT ranges", "[bitops]") {
  const std::string b1("\xff\xf0\x00", 3), b2("\x00\xff\xf0", 3), b3(3, '\0'), b4(3, '\xff');
  CHECK(bits::BitPos(b1, 0, std::nullopt, std::nullopt, false) == 12);
  CHECK(bits::BitPos(b2, 1, 0, std::nullopt, false) == 8);
  CHECK(bits::BitPos(b2, 1, 2, std::nullopt, false) == 16);
  CHECK(bits::BitPos(b2, 1, 2, -1, false) == 16);
  CHECK(bits::BitPos(b2, 1, 7, 15, true) == 8);
  CHECK(bits::BitPos(b3, 1, std::nullopt, std::nullopt, false) == -1);
  CHECK(bits::BitPos(b4, 0, std::nullopt, std::nullopt, false) == 24);
  CHECK(bits::BitPos(b4, 0, 0, -1, false) == -1);
  CHECK(bits::BitPos(b4, 0, 0, -1, true) == -1);
  CHECK(bits::BitPos(b4, 0, 3, 5, true) == -1);
  CHECK(bits::BitPos(b2, 0, 7, 9, true) == 7);
  CHECK(bits::BitPos(b1, 0, 5, 11, true) == -1);
  CHECK(bits::BitPos(b1, 0, 2, 1, false) == -1);  // empty range
}

TEST_CASE("bitops: BITOP pads shorter sources with zeros", "[bitops]") {
  using K = bits::BitOpKind;
  std::string_view a("\x0f\xf0", 2), b("\xff", 1);
  CHECK(bits::BitOp(K::kAnd, {a, b}) == std::string("\x0f\x00", 2));
  CHECK(bits::BitOp(K::kOr, {a, b}) == std::string("\xff\xf0", 2));
  CHECK(bits::BitOp(K::kXor, {a, b}) == std::string("\xf0\xf0", 2));
  CHECK(bits::BitOp(K::kNot, {a}) == std::string("\xf0\x0f", 2));
  CHECK(bits::BitOp(K::kAnd, {a, std::nullopt}) == std::string("\x00\x00", 2));
  CHECK(bits::BitOp(K::kOr, {std::nullopt, std::nullopt}).empty());
}

TEST_CASE("bitops: a BITFIELD sequence gives Redis's replies and bytes", "[bitops]") {
  auto op = [](FieldOp::Kind kind, const char* type, uint64_t offset, int64_t value, Overflow ow) {
    FieldOp o;
    o.kind = kind;
    o.type = *bits::ParseFieldType(type);
    o.offset = offset;
    o.value = value;
    o.overflow = ow;
    return o;
  };
  const auto W = Overflow::kWrap, S = Overflow::kSat, F = Overflow::kFail;
  const auto G = FieldOp::kGet, SET = FieldOp::kSet, INC = FieldOp::kIncrBy;
  const int64_t kMin = INT64_MIN;
  std::vector<FieldOp> ops = {
      op(SET, "i8", 0, -100, W),  op(SET, "i8", 0, -100, W), op(G, "i8", 0, 0, W),
      op(G, "u4", 4, 0, W),       op(INC, "u2", 100, 1, W),  op(INC, "u2", 102, 1, S),
      op(INC, "i8", 0, -100, F),  op(INC, "i8", 0, -100, F), op(G, "i64", 0, 0, F),
      op(SET, "i64", 1, kMin, F), op(INC, "i64", 1, -1, F),  op(INC, "i64", 1, -1, W),
      op(INC, "u63", 200, -1, W), op(SET, "u8", 300, -1, S), op(SET, "i3", 400, 100, S),
  };
  std::string v;
  auto replies = bits::RunBitfield(&v, ops);
  std::vector<std::optional<int64_t>> expected = {0,
                                                  -100,
                                                  -100,
                                                  12,
                                                  1,
                                                  1,
                                                  std::nullopt,
                                                  std::nullopt,
                                                  -7205759403792793600LL,
                                                  4035225266123964416LL,
                                                  std::nullopt,
                                                  9223372036854775807LL,
                                                  9223372036854775807LL,
                                                  0,
                                                  0};
  CHECK(replies == expected);
  std::string want = std::string("\xbf\xff\xff\xff\xff\xff\xff\xff\x80\x00\x00\x00\x05", 13) +
                     std::string(12, '\0') +
                     std::string("\xff\xff\xff\xff\xff\xff\xff\xfe\x00\x00\x00\x00\x0f\xf0", 14) +
                     std::string(11, '\0') + "`";
  CHECK(v == want);
}

TEST_CASE("bitops: BITFIELD GET past the end reads zeros and writes nothing", "[bitops]") {
  std::string v("\xff", 1);
  FieldOp get;
  get.type = *bits::ParseFieldType("u16");
  get.offset = 4;
  CHECK(bits::RunBitfield(&v, {get}) == std::vector<std::optional<int64_t>>{0xf000});
  CHECK(v == "\xff");
  CHECK_FALSE(bits::HasWrite({get}));
  // A failed write still grows the string, as in Redis.
  FieldOp inc;
  inc.kind = FieldOp::kIncrBy;
  inc.type = *bits::ParseFieldType("u8");
  inc.offset = 16;
  inc.value = 300;
  inc.overflow = Overflow::kFail;
  CHECK(bits::RunBitfield(&v, {inc}) == std::vector<std::optional<int64_t>>{std::nullopt});
  CHECK(v == std::string("\xff\x00\x00", 3));
}
