// Test values shared by the client suites.

// Strings that must come back exactly as they were stored: multi-byte
// UTF-8, control characters and NUL, quotes and backslashes, things that
// look like JSON or numbers but are not, and the empty string.
export const ROUND_TRIP_STRINGS = [
  "héllo wörld ✓ 日本語 😀",
  "line one\r\nline two\ttabbed",
  "nul\u0000inside",
  "quote\" back\\slash / solidus",
  "\u00ff\u00fe\u0001\u007f bytes-ish",
  "{not json",
  "123abc",
  "  spaced  ",
  "",
];
