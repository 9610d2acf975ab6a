// LCS (longest common subsequence) of two strings with Redis 7.0's exact
// answers: the same dynamic-programming table and the same walk back through
// it, so when several subsequences are equally long the one returned, and
// the IDX match ranges, are Redis's.
//
// Pure function, no storage or networking.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tally::storage {

// One IDX match: byte ranges (inclusive) in each string, and their length.
struct LcsMatch {
  uint32_t a_start = 0;
  uint32_t a_end = 0;
  uint32_t b_start = 0;
  uint32_t b_end = 0;
  uint32_t length = 0;
};

struct LcsResult {
  uint32_t length = 0;            // always set.
  std::string text;               // the subsequence, when asked for.
  std::vector<LcsMatch> matches;  // when asked for: from the end of the strings backwards.
};

// Bytes of the table LCS needs for strings of these lengths; Redis refuses
// the command when this exceeds proto-max-bulk-len.
uint64_t LcsTableBytes(size_t a_len, size_t b_len);

// The LCS of a and b. `with_text` fills text; `with_matches` fills matches,
// keeping only ranges at least `min_match_len` long (0 keeps all).
// Precondition: both strings shorter than 2^32 - 1 bytes and the table
// (LcsTableBytes) affordable.
LcsResult Lcs(std::string_view a, std::string_view b, bool with_text, bool with_matches,
              int64_t min_match_len);

}  // namespace tally::storage
