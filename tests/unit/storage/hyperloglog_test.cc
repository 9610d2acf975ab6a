#include "storage/hyperloglog.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace hll = tally::storage::hll;

namespace {

// The fixtures below were produced by a real redis-server 7.0.15: the same
// PFADD / PFMERGE / PFCOUNT sequence, then GET of the raw value. Values
// longer than a few hundred bytes are compared by length and FNV-1a 64 of
// their bytes (any differing byte changes it).
uint64_t Fnv1a(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string Hex(const std::string& s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

// PFADD key elements... on `hll` (Empty() for a new key); true when changed.
bool AddAll(std::string* hll, const std::vector<std::string>& elements) {
  bool changed = false;
  for (const auto& e : elements) {
    int r = hll::Add(hll, e);
    REQUIRE(r >= 0);
    changed = changed || r == 1;
  }
  return changed;
}

std::vector<std::string> Range(const std::string& prefix, int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i < to; ++i) out.push_back(prefix + std::to_string(i));
  return out;
}

uint64_t CountOf(std::string* hll) {
  bool written = false;
  auto c = hll::Count(hll, &written);
  REQUIRE(c.has_value());
  return *c;
}

}  // namespace

TEST_CASE("HLL: new key and small adds are Redis's bytes", "[hll]") {
  std::string h = hll::Empty();
  CHECK(Hex(h) == "48594c4c0100000000000000000000007fff");
  CHECK(hll::IsHll(h));
  CHECK_FALSE(hll::IsDense(h));
  CHECK(AddAll(&h, {"a", "b", "c"}));
  CHECK(Hex(h) == "48594c4c01000000000000000000008060f38050b1844bfb80425a");
  bool written = false;
  CHECK(hll::Count(&h, &written) == 3u);
  CHECK(written);
  CHECK(Hex(h) == "48594c4c01000000030000000000000060f38050b1844bfb80425a");
  // The cache is valid now: a second count writes nothing.
  CHECK(hll::Count(&h, &written) == 3u);
  CHECK_FALSE(written);
  // Re-adding known elements changes nothing and keeps the cache.
  std::string before = h;
  CHECK_FALSE(AddAll(&h, {"a", "b", "c"}));
  CHECK(h == before);
}

TEST_CASE("HLL: 200 elements stay sparse, byte for byte", "[hll]") {
  std::string h = hll::Empty();
  AddAll(&h, Range("elem:", 0, 200));
  CHECK(h.size() == 494);
  CHECK(Fnv1a(h) == 0xd6d8c45a61016bbdULL);
  CHECK(CountOf(&h) == 200);
  CHECK(Fnv1a(h) == 0x92766694a1c7e715ULL);
}

TEST_CASE("HLL: promotion to dense and large counts match Redis", "[hll]") {
  std::string h = hll::Empty();
  // Redis's fixture added these in PFADD batches of 100; batching does not
  // change the bytes (each element is applied in turn), only when PFCOUNT runs.
  AddAll(&h, Range("item-", 0, 5000));
  CHECK(hll::IsDense(h));
  CHECK(h.size() == hll::kDenseSize);
  CHECK(Fnv1a(h) == 0x165018d16357f18bULL);
  CHECK(CountOf(&h) == 4987);

  std::string e = hll::Empty();
  AddAll(&e, Range("x", 0, 100000));
  CHECK(Fnv1a(e) == 0x5c8ac9876e56bfc5ULL);
  CHECK(CountOf(&e) == 100903);
}

TEST_CASE("HLL: merge and union counts match Redis", "[hll]") {
  std::string b = hll::Empty();
  AddAll(&b, Range("elem:", 0, 200));
  std::string c = hll::Empty();
  AddAll(&c, Range("item-", 0, 5000));
  std::string d = hll::Empty();
  AddAll(&d, Range("elem:", 150, 400));

  SECTION("PFMERGE of two sparse values stays sparse") {
    hll::Registers max{};
    std::string dest = hll::Empty();
    REQUIRE(hll::MergeInto(dest, &max));
    REQUIRE(hll::MergeInto(b, &max));
    REQUIRE(hll::MergeInto(d, &max));
    REQUIRE(hll::StoreMerged(&dest, max, false));
    CHECK(dest.size() == 873);
    CHECK(Fnv1a(dest) == 0xa142a4e8d1deb226ULL);
    CHECK(CountOf(&dest) == 402);
  }
  SECTION("PFMERGE with a dense input is dense") {
    hll::Registers max{};
    std::string dest = hll::Empty();
    REQUIRE(hll::MergeInto(b, &max));
    REQUIRE(hll::MergeInto(c, &max));
    REQUIRE(hll::StoreMerged(&dest, max, hll::IsDense(c)));
    CHECK(Fnv1a(dest) == 0x809cf92ec55d3a62ULL);
    CHECK(CountOf(&dest) == 5183);
  }
  SECTION("PFCOUNT of several keys counts the union") {
    hll::Registers max{};
    for (auto* v : {&b, &c, &d}) REQUIRE(hll::MergeInto(*v, &max));
    CHECK(hll::CountRegisters(max) == 5381);
  }
}

TEST_CASE("HLL: what is not an HLL, and corrupted sparse opcodes", "[hll]") {
  CHECK_FALSE(hll::IsHll(""));
  CHECK_FALSE(hll::IsHll("hello world, this is long"));
  std::string h = hll::Empty();
  std::string bad_magic = h;
  bad_magic[3] = 'X';
  CHECK_FALSE(hll::IsHll(bad_magic));
  std::string bad_encoding = h;
  bad_encoding[4] = 2;
  CHECK_FALSE(hll::IsHll(bad_encoding));
  std::string short_dense = h;
  short_dense[4] = 0;
  CHECK_FALSE(hll::IsHll(short_dense));  // dense must be exactly kDenseSize

  // Opcodes covering too few registers: a valid header, corrupted body.
  std::string corrupt = h.substr(0, hll::kHeaderSize) + std::string("\x7f\xf0", 2);
  corrupt[15] = static_cast<char>(0x80);  // stale cache forces a recount
  REQUIRE(hll::IsHll(corrupt));
  bool written = false;
  CHECK_FALSE(hll::Count(&corrupt, &written).has_value());
  CHECK_FALSE(written);
  hll::Registers max{};
  CHECK_FALSE(hll::MergeInto(corrupt, &max));
  // No opcodes at all: no register can be found to update.
  std::string no_body = h.substr(0, hll::kHeaderSize);
  CHECK(hll::Add(&no_body, "a") == -1);
  // An opcode past the last register is corrupted too, for every command
  // (redis-server 7.0.15 as Debian ships it answers INVALIDOBJ to PFCOUNT of
  // one key, of several keys, and to PFADD's promotion of such a value).
  std::string over = h + std::string("\x80", 1);
  over[15] = static_cast<char>(0x80);
  CHECK_FALSE(hll::Count(&over, &written).has_value());
  CHECK_FALSE(hll::MergeInto(over, &max));
  std::string big_over = h + std::string(3000, '\x80');
  CHECK(hll::Add(&big_over, "a") == -1);  // promotion finds the overflow
}

TEST_CASE("HLL: a register above 32 promotes sparse to dense", "[hll]") {
  // Register values above 32 cannot be written as a sparse VAL: merging a
  // dense register set with such a value into a sparse value promotes it.
  hll::Registers max{};
  max[100] = 40;
  std::string h = hll::Empty();
  REQUIRE(hll::StoreMerged(&h, max, false));
  CHECK(hll::IsDense(h));
  hll::Registers back{};
  REQUIRE(hll::MergeInto(h, &back));
  CHECK(back == max);
}
