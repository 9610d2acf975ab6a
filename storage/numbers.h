// Number parsing and formatting with Redis's exact rules, shared by commands
// (argument parsing) and storage (counter values).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tally {

// Redis's string2ll: an optional '-', then digits with no leading zero (except
// "0" itself); no spaces, no '+', must fit in int64. "-0" is rejected.
std::optional<int64_t> ParseInt64(std::string_view text);

// Decimal text of `value`; the inverse of ParseInt64.
std::string FormatInt64(int64_t value);

// Redis's string2ld: strtold over the whole text; rejects empty text, leading
// space, trailing garbage, NaN, overflow to +-HUGE_VAL and underflow to zero.
// "inf" and "-inf" are accepted. Texts longer than 5 KiB are rejected.
std::optional<long double> ParseLongDouble(std::string_view text);

// Redis's ld2string in LD_STR_HUMAN mode ("%.17Lf" with trailing zeros and a
// trailing '.' removed, "-0" becomes "0"); used for INCRBYFLOAT results.
std::string FormatLongDoubleHuman(long double value);

}  // namespace tally
