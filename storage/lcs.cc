#include "storage/lcs.h"

#include <algorithm>

namespace tally::storage {

uint64_t LcsTableBytes(size_t a_len, size_t b_len) {
  return (static_cast<uint64_t>(a_len) + 1) * (static_cast<uint64_t>(b_len) + 1) * sizeof(uint32_t);
}

LcsResult Lcs(std::string_view a, std::string_view b, bool with_text, bool with_matches,
              int64_t min_match_len) {
  const auto alen = static_cast<uint32_t>(a.size());
  const auto blen = static_cast<uint32_t>(b.size());
  // table[i][j]: LCS length of a[0..i) and b[0..j).
  std::vector<uint32_t> table((static_cast<size_t>(alen) + 1) * (blen + 1), 0);
  auto at = [&](uint32_t i, uint32_t j) -> uint32_t& {
    return table[j + static_cast<size_t>(i) * (blen + 1)];
  };
  for (uint32_t i = 1; i <= alen; ++i) {
    for (uint32_t j = 1; j <= blen; ++j) {
      if (a[i - 1] == b[j - 1]) {
        at(i, j) = at(i - 1, j - 1) + 1;
      } else {
        at(i, j) = std::max(at(i - 1, j), at(i, j - 1));
      }
    }
  }

  LcsResult result;
  result.length = at(alen, blen);
  if (!with_text && !with_matches) return result;
  result.text.assign(result.length, '\0');

  // Walk back from the end, preferring to drop a byte of `a` only when that
  // keeps a strictly longer LCS (Redis's tie-break), and track the current
  // contiguous range; arange_start == alen means "no range open".
  uint32_t idx = result.length;
  uint32_t arange_start = alen, arange_end = 0, brange_start = 0, brange_end = 0;
  uint32_t i = alen, j = blen;
  while (i > 0 && j > 0) {
    bool emit = false;
    if (a[i - 1] == b[j - 1]) {
      result.text[idx - 1] = a[i - 1];
      if (arange_start == alen) {
        arange_start = arange_end = i - 1;
        brange_start = brange_end = j - 1;
      } else if (arange_start == i && brange_start == j) {
        --arange_start;
        --brange_start;
      } else {
        emit = true;
      }
      if (arange_start == 0 || brange_start == 0) emit = true;
      --idx;
      --i;
      --j;
    } else {
      if (at(i - 1, j) > at(i, j - 1)) {
        --i;
      } else {
        --j;
      }
      if (arange_start != alen) emit = true;
    }
    if (emit) {
      uint32_t match_len = arange_end - arange_start + 1;
      if (with_matches && (min_match_len == 0 || match_len >= min_match_len)) {
        result.matches.push_back({arange_start, arange_end, brange_start, brange_end, match_len});
      }
      arange_start = alen;
    }
  }
  if (!with_text) result.text.clear();
  return result;
}

}  // namespace tally::storage
