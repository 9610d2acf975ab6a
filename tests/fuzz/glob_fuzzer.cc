// Fuzzes GlobMatch against a transcription of Redis 7.0's stringmatchlen()
// (src/util.c, with the skipLongerMatches fix of CVE-2022-36021 that keeps it
// polynomial). Invariants: same answer for every pattern, text and case mode;
// every match starts with GlobLiteralPrefix(pattern); and no pattern makes
// the matcher slow (libFuzzer's -timeout catches that: GlobMatch is
// O(|pattern| * |text|)).
//
// Input: byte 0 picks the case mode, byte 1 how the rest splits into pattern
// and text.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "storage/glob.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

// Redis's code, kept as close to the original as C++ allows, including its
// reads of the NUL terminator one past the pattern (so the caller passes
// NUL-terminated strings) and its plain-char (signed) comparisons.
int RedisStringMatchImpl(const char* pattern, int patternLen, const char* string, int stringLen,
                         int nocase, int* skipLongerMatches) {
  while (patternLen && stringLen) {
    switch (pattern[0]) {
      case '*':
        while (patternLen && pattern[1] == '*') {
          pattern++;
          patternLen--;
        }
        if (patternLen == 1) return 1; /* match */
        while (stringLen) {
          if (RedisStringMatchImpl(pattern + 1, patternLen - 1, string, stringLen, nocase,
                                   skipLongerMatches))
            return 1;                       /* match */
          if (*skipLongerMatches) return 0; /* no match */
          string++;
          stringLen--;
        }
        *skipLongerMatches = 1;
        return 0; /* no match */
      case '?':
        string++;
        stringLen--;
        break;
      case '[': {
        int negate, match;

        pattern++;
        patternLen--;
        negate = pattern[0] == '^';
        if (negate) {
          pattern++;
          patternLen--;
        }
        match = 0;
        while (1) {
          if (pattern[0] == '\\' && patternLen >= 2) {
            pattern++;
            patternLen--;
            if (pattern[0] == string[0]) match = 1;
          } else if (pattern[0] == ']') {
            break;
          } else if (patternLen == 0) {
            pattern--;
            patternLen++;
            break;
          } else if (patternLen >= 3 && pattern[1] == '-') {
            int start = pattern[0];
            int end = pattern[2];
            int c = string[0];
            if (start > end) {
              int t = start;
              start = end;
              end = t;
            }
            if (nocase) {
              start = tolower(start);
              end = tolower(end);
              c = tolower(c);
            }
            pattern += 2;
            patternLen -= 2;
            if (c >= start && c <= end) match = 1;
          } else {
            if (!nocase) {
              if (pattern[0] == string[0]) match = 1;
            } else {
              if (tolower((int)pattern[0]) == tolower((int)string[0])) match = 1;
            }
          }
          pattern++;
          patternLen--;
        }
        if (negate) match = !match;
        if (!match) return 0; /* no match */
        string++;
        stringLen--;
        break;
      }
      case '\\':
        if (patternLen >= 2) {
          pattern++;
          patternLen--;
        }
        /* fall through */
      default:
        if (!nocase) {
          if (pattern[0] != string[0]) return 0; /* no match */
        } else {
          if (tolower((int)pattern[0]) != tolower((int)string[0])) return 0; /* no match */
        }
        string++;
        stringLen--;
        break;
    }
    pattern++;
    patternLen--;
    if (stringLen == 0) {
      while (*pattern == '*') {
        pattern++;
        patternLen--;
      }
      break;
    }
  }
  if (patternLen == 0 && stringLen == 0) return 1;
  return 0;
}

bool RedisStringMatch(const std::string& pattern, const std::string& text, bool nocase) {
  int skip_longer_matches = 0;
  return RedisStringMatchImpl(pattern.c_str(), static_cast<int>(pattern.size()), text.c_str(),
                              static_cast<int>(text.size()), nocase, &skip_longer_matches) != 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const bool nocase = data[0] & 1;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 2, size - 2);
  const size_t split = rest.empty() ? 0 : data[1] % (rest.size() + 1);
  const std::string pattern(rest.substr(0, split));
  const std::string text(rest.substr(split));

  const bool got = tally::GlobMatch(pattern, text, nocase);
  // Redis's callers treat a lone "*" as match-all, the empty key included;
  // stringmatchlen() alone says no for that one case.
  const bool want = pattern == "*" || RedisStringMatch(pattern, text, nocase);
  FUZZ_CHECK(got == want);

  // The literal prefix is what KEYS and SCAN seek to: a key outside it must
  // never match (case-sensitive matching only, which is what they use).
  if (!nocase && got) FUZZ_CHECK(text.starts_with(tally::GlobLiteralPrefix(pattern)));
  return 0;
}
