// Redis-compatible glob matching for KEYS, SCAN MATCH and CONFIG GET.
#pragma once

#include <string_view>

namespace tally {

// True if `text` matches `pattern` exactly as Redis's stringmatchlen() would:
// `*` any run, `?` one byte, `[abc]`, `[^a]`, `[a-z]` (reversed ranges work),
// `\x` a literal x, with Redis's handling of unterminated classes and a
// trailing backslash. Runs in O(|pattern| * |text|) time at worst: patterns
// such as forty stars never backtrack exponentially.
bool GlobMatch(std::string_view pattern, std::string_view text, bool nocase = false);

// The literal bytes every match of `pattern` must start with (the part before
// the first `*`, `?`, `[` or `\`). Used to turn a pattern into a range seek.
std::string_view GlobLiteralPrefix(std::string_view pattern);

}  // namespace tally
