#include "storage/glob.h"

#include <cctype>
#include <utility>

namespace tally {
namespace {

char Fold(char c, bool nocase) {
  return nocase ? static_cast<char>(std::tolower(static_cast<unsigned char>(c))) : c;
}

// Redis's range bounds are plain (signed) chars passed to tolower() after
// the swap. glibc's tolower() in the C locale maps -1 (EOF) to itself and
// any other negative c to c + 256, so a range such as [\xba-\\] that holds
// negative values reorders under nocase. Mirrors that without calling
// tolower() on a negative value.
int RedisRangeFold(int c, bool nocase) {
  if (!nocase) return c;
  if (c == -1) return c;
  if (c < 0) return c + 256;
  return std::tolower(c);
}

// Matches the single-byte token at pattern[p] (anything but '*') against c.
// Returns whether it matched and stores the index just past the token in
// *next. Mirrors the per-character cases of Redis's stringmatchlen(),
// including its treatment of unterminated classes and signed-char ranges.
bool MatchToken(std::string_view pattern, size_t p, char c, bool nocase, size_t* next) {
  const size_t m = pattern.size();
  switch (pattern[p]) {
    case '?':
      *next = p + 1;
      return true;
    case '[': {
      ++p;
      const bool negate = p < m && pattern[p] == '^';
      if (negate) ++p;
      bool match = false;
      while (true) {
        if (p >= m) {  // unterminated class: it ends with the pattern.
          break;
        }
        if (pattern[p] == '\\' && m - p >= 2) {
          ++p;
          if (pattern[p] == c) match = true;  // Redis compares escapes exactly, even nocase
        } else if (pattern[p] == ']') {
          break;
        } else if (m - p >= 3 && pattern[p + 1] == '-') {
          // Redis compares plain (signed) chars here, swapping reversed
          // bounds before folding case; keep its behaviour.
          int start = static_cast<signed char>(pattern[p]);
          int end = static_cast<signed char>(pattern[p + 2]);
          if (start > end) std::swap(start, end);
          start = RedisRangeFold(start, nocase);
          end = RedisRangeFold(end, nocase);
          const int ch = RedisRangeFold(static_cast<signed char>(c), nocase);
          if (ch >= start && ch <= end) match = true;
          p += 2;
        } else if (Fold(pattern[p], nocase) == Fold(c, nocase)) {
          match = true;
        }
        ++p;
      }
      *next = p < m ? p + 1 : m;
      return negate ? !match : match;
    }
    case '\\':
      if (m - p >= 2) ++p;
      [[fallthrough]];
    default:
      *next = p + 1;
      return Fold(pattern[p], nocase) == Fold(c, nocase);
  }
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view text, bool nocase) {
  // Redis's callers (KEYS, SCAN, CONFIG GET) treat a lone "*" as match-all,
  // even for the empty key that stringmatchlen() itself would reject.
  if (pattern == "*") return true;
  if (text.empty()) return pattern.empty();

  // Classic wildcard matching with a single backtrack point: every token but
  // '*' consumes exactly one byte, so on a mismatch only the most recent star
  // needs to absorb one more byte. O(|pattern| * |text|) in the worst case.
  const size_t m = pattern.size();
  const size_t n = text.size();
  size_t p = 0, s = 0;
  size_t star_p = std::string_view::npos;  // pattern index just after the last star run
  size_t star_s = 0;                       // text index that star run is matched up to
  while (s < n) {
    if (p < m && pattern[p] == '*') {
      while (p < m && pattern[p] == '*') ++p;
      if (p == m) return true;  // a trailing star matches the rest.
      star_p = p;
      star_s = s;
      continue;
    }
    size_t next = 0;
    if (p < m && MatchToken(pattern, p, text[s], nocase, &next)) {
      p = next;
      ++s;
      continue;
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p;
    s = ++star_s;
  }
  while (p < m && pattern[p] == '*') ++p;
  return p == m;
}

std::string_view GlobLiteralPrefix(std::string_view pattern) {
  size_t i = 0;
  while (i < pattern.size() && pattern[i] != '*' && pattern[i] != '?' && pattern[i] != '[' &&
         pattern[i] != '\\') {
    ++i;
  }
  return pattern.substr(0, i);
}

}  // namespace tally
