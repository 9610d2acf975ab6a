#include "storage/glob.h"

#include <catch2/catch.hpp>
#include <string>

using tally::GlobLiteralPrefix;
using tally::GlobMatch;

TEST_CASE("glob: literals, ? and *", "[glob]") {
  CHECK(GlobMatch("hello", "hello"));
  CHECK_FALSE(GlobMatch("hello", "hell"));
  CHECK(GlobMatch("h?llo", "hallo"));
  CHECK_FALSE(GlobMatch("h?llo", "hllo"));
  CHECK(GlobMatch("h*llo", "hllo"));
  CHECK(GlobMatch("h*llo", "heeeello"));
  CHECK(GlobMatch("usage:*", "usage:webo-news-overlay"));
  CHECK_FALSE(GlobMatch("usage:*", "usag"));
  CHECK(GlobMatch("*", ""));
  CHECK(GlobMatch("*", "anything"));
  CHECK(GlobMatch("a*", "a"));
  CHECK(GlobMatch("*a*b*", "xxaxxbxx"));
  CHECK_FALSE(GlobMatch("*a*b*", "xxbxxaxx"));
  CHECK_FALSE(GlobMatch("a?", "a"));
  CHECK(GlobMatch("", ""));
  CHECK_FALSE(GlobMatch("", "a"));
}

TEST_CASE("glob: classes", "[glob]") {
  CHECK(GlobMatch("h[ae]llo", "hello"));
  CHECK(GlobMatch("h[ae]llo", "hallo"));
  CHECK_FALSE(GlobMatch("h[ae]llo", "hillo"));
  CHECK(GlobMatch("h[^e]llo", "hallo"));
  CHECK_FALSE(GlobMatch("h[^e]llo", "hello"));
  CHECK(GlobMatch("h[a-b]llo", "hbllo"));
  CHECK(GlobMatch("h[b-a]llo", "hallo"));  // reversed ranges are swapped
  CHECK_FALSE(GlobMatch("h[a-b]llo", "hcllo"));
  CHECK(GlobMatch("[\\]]", "]"));
  CHECK(GlobMatch("[a-]", "]"));      // "a-]" is a range up to ']'
  CHECK_FALSE(GlobMatch("[]", "a"));  // empty class matches nothing
  CHECK(GlobMatch("[^]", "a"));       // negated empty class matches anything
  CHECK(GlobMatch("[abc", "c"));      // unterminated class ends with the pattern
  CHECK_FALSE(GlobMatch("[abc", "d"));
  CHECK(GlobMatch("[^", "x"));
  CHECK_FALSE(GlobMatch("[", "x"));
}

TEST_CASE("glob: escapes", "[glob]") {
  CHECK(GlobMatch("a\\*b", "a*b"));
  CHECK_FALSE(GlobMatch("a\\*b", "axb"));
  CHECK(GlobMatch("a\\?", "a?"));
  CHECK(GlobMatch("a\\", "a\\"));  // a trailing backslash is literal
  CHECK(GlobMatch("\\[x]", "[x]"));
}

TEST_CASE("glob: binary bytes", "[glob]") {
  std::string key("a\0b\r\nc", 6);
  CHECK(GlobMatch("a*c", key));
  CHECK(GlobMatch(std::string("a\0*", 3), key));
  CHECK_FALSE(GlobMatch(std::string("a\1*", 3), key));
}

TEST_CASE("glob: nocase", "[glob]") {
  CHECK(GlobMatch("HeLLo", "hello", true));
  CHECK(GlobMatch("h[A-Z]llo", "hello", true));
  CHECK_FALSE(GlobMatch("HeLLo", "hello", false));
}

// Found by the glob fuzzer against a transcription of Redis's stringmatchlen:
// Redis swaps reversed range bounds before folding case, folds bytes >= 0x80
// as glibc's tolower() does for negative chars, and never folds an escaped
// class member.
TEST_CASE("glob: nocase follows Redis for high bytes and escapes in classes", "[glob]") {
  CHECK_FALSE(GlobMatch("[\xba-\\]", "\xfc", true));
  CHECK(GlobMatch("[\xba-\\]", "\xfc", false));
  CHECK_FALSE(GlobMatch("[\\A]", "a", true));
  CHECK(GlobMatch("[\\A]", "A", true));
  CHECK(GlobMatch("[a]", "A", true));
}

TEST_CASE("glob: long nested star patterns do not backtrack exponentially", "[glob]") {
  // Redis's regression test (keyspace.tcl): forty stars against a long run of
  // 'a' that never matches. A naive recursive matcher takes ages here.
  std::string pattern;
  for (int i = 0; i < 40; ++i) pattern += "a*";
  pattern += "b";
  std::string text(70, 'a');
  CHECK_FALSE(GlobMatch(pattern, text));
  std::string many_stars(40, '*');
  CHECK(GlobMatch(many_stars + "x", std::string(10000, 'y') + "x"));
  CHECK_FALSE(GlobMatch(many_stars + "x" + many_stars + "z", std::string(10000, 'x')));
}

TEST_CASE("glob: literal prefix", "[glob]") {
  CHECK(GlobLiteralPrefix("usage:*") == "usage:");
  CHECK(GlobLiteralPrefix("usage:?x") == "usage:");
  CHECK(GlobLiteralPrefix("a[bc]") == "a");
  CHECK(GlobLiteralPrefix("a\\*") == "a");
  CHECK(GlobLiteralPrefix("plain") == "plain");
  CHECK(GlobLiteralPrefix("*") == "");
}
