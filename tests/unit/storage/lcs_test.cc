#include "storage/lcs.h"

#include <catch2/catch.hpp>

using tally::storage::Lcs;
using tally::storage::LcsTableBytes;

// Expected answers come from a real redis-server 7.0.15 (LCS with the same
// strings), including which of several equally long subsequences it picks.

TEST_CASE("LCS: text, length and IDX ranges are Redis's", "[lcs]") {
  auto r = Lcs("ohmytext", "mynewtext", true, true, 0);
  CHECK(r.text == "mytext");
  CHECK(r.length == 6);
  REQUIRE(r.matches.size() == 2);
  CHECK(r.matches[0].a_start == 4);
  CHECK(r.matches[0].a_end == 7);
  CHECK(r.matches[0].b_start == 5);
  CHECK(r.matches[0].b_end == 8);
  CHECK(r.matches[0].length == 4);
  CHECK(r.matches[1].a_start == 2);
  CHECK(r.matches[1].a_end == 3);
  CHECK(r.matches[1].b_start == 0);
  CHECK(r.matches[1].b_end == 1);
  CHECK(r.matches[1].length == 2);

  auto min4 = Lcs("ohmytext", "mynewtext", false, true, 4);
  CHECK(min4.matches.size() == 1);
  CHECK(min4.text.empty());

  auto ties = Lcs("ABCBDAB", "BDCABA", true, true, 0);
  CHECK(ties.text == "BDAB");
  REQUIRE(ties.matches.size() == 2);
  CHECK(ties.matches[0].a_start == 5);
  CHECK(ties.matches[0].b_start == 3);
  CHECK(ties.matches[1].a_start == 3);
  CHECK(ties.matches[1].b_start == 0);
}

TEST_CASE("LCS: empty strings and LEN only", "[lcs]") {
  CHECK(Lcs("", "abc", true, true, 0).text.empty());
  CHECK(Lcs("", "", true, false, 0).length == 0);
  auto len = Lcs("abc", "xaybzc", false, false, 0);
  CHECK(len.length == 3);
  CHECK(len.text.empty());
  CHECK(LcsTableBytes(0, 0) == 4);
  CHECK(LcsTableBytes(9, 99) == 4000);
}
