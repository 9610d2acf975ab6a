#include "storage/glob.h"

#include <cctype>
#include <utility>

namespace tally {
namespace {

char Fold(char c, bool nocase) {
  return nocase ? static_cast<char>(std::tolower(static_cast<unsigned char>(c))) : c;
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
          if (Fold(pattern[p], nocase) == Fold(c, nocase)) match = true;
        } else if (pattern[p] == ']') {
          break;
        } else if (m - p >= 3 && pattern[p + 1] == '-') {
          // Redis compares plain (signed) chars here; keep its behaviour.
          int start = static_cast<signed char>(Fold(pattern[p], nocase));
          int end = static_cast<signed char>(Fold(pattern[p + 2], nocase));
          int ch = static_cast<signed char>(Fold(c, nocase));
          if (start > end) std::swap(start, end);
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
