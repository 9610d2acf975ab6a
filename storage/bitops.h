// Bitmap operations on plain string values with Redis 7.0's exact semantics
// (bitops.c): bit 0 is the most significant bit of byte 0, a missing key or
// the bytes past the end of a string read as zero bits, and a write past the
// end grows the string with zero bytes.
//
// Pure functions on std::string, no storage or networking. Argument parsing
// that depends on the text of a command (offsets, bitfield types) is here too
// so every command parses it the same way.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tally::storage::bits {

// Redis's getBitOffsetFromArgument: a non-negative int64 whose byte (offset
// >> 3) is below `max_bulk_len` (proto-max-bulk-len). With `bits` > 0 (a
// BITFIELD type width), "#N" means N * bits. nullopt is answered with "bit
// offset is not an integer or out of range".
std::optional<uint64_t> ParseOffset(std::string_view text, int bits, int64_t max_bulk_len);

struct FieldType {
  bool is_signed = false;
  int bits = 0;  // 1..64 signed, 1..63 unsigned.
};
// "i1".."i64", "u1".."u63"; nullopt is answered with "Invalid bitfield type.
// Use something like i16 u8. Note that u64 is not supported but i64 is."
std::optional<FieldType> ParseFieldType(std::string_view text);

// GETBIT: 0 or 1; offsets past the end read 0.
int GetBit(std::string_view value, uint64_t offset);
// SETBIT: grows `value` with zero bytes to hold `offset`, sets the bit to
// `on` (0 or 1) and returns its previous value.
int SetBit(std::string* value, uint64_t offset, int on);

// A BITCOUNT / BITPOS range as given: start and end in bytes, or bits with
// the BIT unit; negative values count from the end.
struct Range {
  int64_t start = 0;
  int64_t end = 0;
  bool bit_unit = false;
};
// BITCOUNT: set bits in the whole string, or in `range` (clamped as Redis
// does; an empty range counts 0).
int64_t BitCount(std::string_view value, const std::optional<Range>& range);
// BITPOS for `bit` (0 or 1): the first position holding it, from `start`
// (whole string when nullopt) to `end` (string end when nullopt). Without an
// explicit end, a string with no clear bit answers the first bit past its
// end; otherwise -1 when the range has no such bit or is empty.
int64_t BitPos(std::string_view value, int bit, std::optional<int64_t> start,
               std::optional<int64_t> end, bool bit_unit);

enum class BitOpKind { kAnd, kOr, kXor, kNot };
// BITOP's result: as long as the longest source, shorter sources (and
// missing keys, nullopt) padded with zero bytes. NOT takes one source.
// Empty when every source is empty or missing (BITOP then deletes the
// destination).
std::string BitOp(BitOpKind kind, const std::vector<std::optional<std::string_view>>& sources);

enum class Overflow { kWrap, kSat, kFail };
struct FieldOp {
  enum Kind { kGet, kSet, kIncrBy } kind = kGet;
  FieldType type;
  uint64_t offset = 0;  // in bits, already scaled for "#N".
  int64_t value = 0;    // SET value or INCRBY increment.
  Overflow overflow = Overflow::kWrap;
};
// True when some op is SET or INCRBY (BITFIELD then writes the key, and
// BITFIELD_RO refuses).
bool HasWrite(const std::vector<FieldOp>& ops);
// Runs BITFIELD's ops in order on `value` (empty for a missing key). When
// some op writes, `value` first grows with zero bytes to cover the highest
// written bit (even if every write then fails with OVERFLOW FAIL, as in
// Redis). One reply per op: the value read (GET), the old value (SET), the
// new value (INCRBY), or nullopt when OVERFLOW FAIL refused the write.
// *changed (optional) tells whether some write changed a field's value;
// Redis signals the key as modified only then.
std::vector<std::optional<int64_t>> RunBitfield(std::string* value, const std::vector<FieldOp>& ops,
                                                bool* changed = nullptr);

}  // namespace tally::storage::bits
