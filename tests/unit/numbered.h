// Names numbered in a loop for the unit tests ("k17", "key:3").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tally::testing {

// prefix followed by the decimal n. Built by appending rather than as
// "k" + std::to_string(n): g++ 12 at -O3 inlines that operator+ (const char*
// and a temporary string) into an insert at position 0 and reports a false
// -Wrestrict overlap for it (GCC bug 105651), which fails a Release build
// with TALLY_WERROR=ON.
inline std::string Numbered(std::string_view prefix, int64_t n) {
  std::string out(prefix);
  out += std::to_string(n);
  return out;
}

}  // namespace tally::testing
