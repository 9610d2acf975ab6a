#include "storage/bitops.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "storage/numbers.h"

namespace tally::storage::bits {
namespace {

const uint8_t* Bytes(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

int64_t Popcount(const uint8_t* p, int64_t n) {
  int64_t count = 0;
  for (int64_t i = 0; i < n; ++i) count += __builtin_popcount(p[i]);
  return count;
}

// Redis's redisBitpos: the first bit equal to `bit` in p[0..count); when
// there is none, -1 for a set bit and count*8 (the first bit of the zero
// padding past the end) for a clear bit.
int64_t FirstBit(const uint8_t* p, int64_t count, int bit) {
  const uint8_t skip = bit ? 0 : 0xff;
  for (int64_t i = 0; i < count; ++i) {
    if (p[i] == skip) continue;
    for (int b = 7; b >= 0; --b) {
      if (((p[i] >> b) & 1) == bit) return i * 8 + (7 - b);
    }
  }
  return bit ? -1 : count * 8;
}

// Redis's normalization of a BITCOUNT / BITPOS range over `totlen` units:
// negative indexes from the end, clamped into [0, totlen-1].
void Clamp(int64_t totlen, int64_t* start, int64_t* end) {
  if (*start < 0) *start = totlen + *start;
  if (*end < 0) *end = totlen + *end;
  if (*start < 0) *start = 0;
  if (*end < 0) *end = 0;
  if (*end >= totlen) *end = totlen - 1;
}

uint64_t GetUnsigned(const uint8_t* p, uint64_t offset, int bits) {
  uint64_t value = 0;
  for (int j = 0; j < bits; ++j, ++offset) {
    uint64_t bit = (p[offset >> 3] >> (7 - (offset & 7))) & 1;
    value = (value << 1) | bit;
  }
  return value;
}

int64_t GetSigned(const uint8_t* p, uint64_t offset, int bits) {
  uint64_t u = GetUnsigned(p, offset, bits);
  // Sign-extend a negative field to 64 bits (two's complement).
  if (bits < 64 && (u & (uint64_t{1} << (bits - 1)))) u |= ~uint64_t{0} << bits;
  return static_cast<int64_t>(u);
}

void SetField(uint8_t* p, uint64_t offset, int bits, uint64_t value) {
  for (int j = 0; j < bits; ++j, ++offset) {
    uint64_t bit = (value >> (bits - 1 - j)) & 1;
    uint8_t mask = static_cast<uint8_t>(1 << (7 - (offset & 7)));
    if (bit) {
      p[offset >> 3] |= mask;
    } else {
      p[offset >> 3] &= static_cast<uint8_t>(~mask);
    }
  }
}

// Redis's checkUnsignedBitfieldOverflow: nonzero on overflow, with *limit the
// wrapped or saturated value for WRAP / SAT.
int UnsignedOverflow(uint64_t value, int64_t incr, int bits, Overflow ow, uint64_t* limit) {
  uint64_t max = bits == 64 ? std::numeric_limits<uint64_t>::max() : (uint64_t{1} << bits) - 1;
  auto maxincr = static_cast<int64_t>(max - value);
  auto minincr = static_cast<int64_t>(uint64_t{0} - value);
  auto wrap = [&] {
    uint64_t mask = bits == 64 ? 0 : ~uint64_t{0} << bits;
    *limit = (value + static_cast<uint64_t>(incr)) & ~mask;
  };
  if (value > max || (incr > 0 && incr > maxincr)) {
    if (ow == Overflow::kWrap) {
      wrap();
    } else if (ow == Overflow::kSat) {
      *limit = max;
    }
    return 1;
  }
  if (incr < 0 && incr < minincr) {
    if (ow == Overflow::kWrap) {
      wrap();
      return 1;
    }
    if (ow == Overflow::kSat) *limit = 0;
    return -1;
  }
  return 0;
}

// Redis's checkSignedBitfieldOverflow, with its wrap-around arithmetic done
// on unsigned integers so it is defined behaviour.
int SignedOverflow(int64_t value, int64_t incr, int bits, Overflow ow, int64_t* limit) {
  int64_t max = bits == 64 ? std::numeric_limits<int64_t>::max() : (int64_t{1} << (bits - 1)) - 1;
  int64_t min = -max - 1;
  auto maxincr = static_cast<int64_t>(static_cast<uint64_t>(max) - static_cast<uint64_t>(value));
  auto minincr = static_cast<int64_t>(static_cast<uint64_t>(min) - static_cast<uint64_t>(value));
  auto wrap = [&] {
    uint64_t msb = uint64_t{1} << (bits - 1);
    uint64_t c = static_cast<uint64_t>(value) + static_cast<uint64_t>(incr);
    if (bits < 64) {
      uint64_t mask = ~uint64_t{0} << bits;
      c = (c & msb) ? (c | mask) : (c & ~mask);
    }
    *limit = static_cast<int64_t>(c);
  };
  if (value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr)) {
    if (ow == Overflow::kWrap) {
      wrap();
    } else if (ow == Overflow::kSat) {
      *limit = max;
    }
    return 1;
  }
  if (value < min || (bits != 64 && incr < minincr) || (value < 0 && incr < 0 && incr < minincr)) {
    if (ow == Overflow::kWrap) {
      wrap();
      return 1;
    }
    if (ow == Overflow::kSat) *limit = min;
    return -1;
  }
  return 0;
}

}  // namespace

std::optional<uint64_t> ParseOffset(std::string_view text, int bits, int64_t max_bulk_len) {
  bool hash = !text.empty() && text[0] == '#' && bits > 0;
  auto parsed = ParseInt64(hash ? text.substr(1) : text);
  if (!parsed) return std::nullopt;
  int64_t offset = *parsed;
  if (hash && __builtin_mul_overflow(offset, int64_t{bits}, &offset)) return std::nullopt;
  if (offset < 0 || (offset >> 3) >= max_bulk_len) return std::nullopt;
  return static_cast<uint64_t>(offset);
}

std::optional<FieldType> ParseFieldType(std::string_view text) {
  if (text.empty() || (text[0] != 'i' && text[0] != 'u')) return std::nullopt;
  FieldType type;
  type.is_signed = text[0] == 'i';
  // Redis reads the width as a C string: it stops at an embedded NUL.
  std::string_view width = text.substr(1);
  width = width.substr(0, width.find('\0'));
  auto n = ParseInt64(width);
  if (!n || *n < 1 || (type.is_signed && *n > 64) || (!type.is_signed && *n > 63)) {
    return std::nullopt;
  }
  type.bits = static_cast<int>(*n);
  return type;
}

int GetBit(std::string_view value, uint64_t offset) {
  uint64_t byte = offset >> 3;
  if (byte >= value.size()) return 0;
  return (Bytes(value)[byte] >> (7 - (offset & 7))) & 1;
}

int SetBit(std::string* value, uint64_t offset, int on) {
  uint64_t byte = offset >> 3;
  if (value->size() < byte + 1) value->resize(byte + 1, '\0');
  auto& b = reinterpret_cast<uint8_t&>((*value)[byte]);
  int shift = 7 - static_cast<int>(offset & 7);
  int old = (b >> shift) & 1;
  b = static_cast<uint8_t>((b & ~(1 << shift)) | ((on & 1) << shift));
  return old;
}

int64_t BitCount(std::string_view value, const std::optional<Range>& range) {
  const uint8_t* p = Bytes(value);
  auto strlen = static_cast<int64_t>(value.size());
  if (!range) return Popcount(p, strlen);
  int64_t start = range->start;
  int64_t end = range->end;
  int64_t totlen = range->bit_unit ? strlen << 3 : strlen;
  if (start < 0 && end < 0 && start > end) return 0;
  Clamp(totlen, &start, &end);
  uint8_t first_mask = 0;
  uint8_t last_mask = 0;
  if (range->bit_unit && start <= end) {
    // Bits of the edge bytes outside the range, subtracted afterwards.
    first_mask = static_cast<uint8_t>(~((1 << (8 - (start & 7))) - 1) & 0xff);
    last_mask = static_cast<uint8_t>((1 << (7 - (end & 7))) - 1);
    start >>= 3;
    end >>= 3;
  }
  if (start > end) return 0;
  int64_t count = Popcount(p + start, end - start + 1);
  if (first_mask) count -= __builtin_popcount(p[start] & first_mask);
  if (last_mask) count -= __builtin_popcount(p[end] & last_mask);
  return count;
}

int64_t BitPos(std::string_view value, int bit, std::optional<int64_t> start_arg,
               std::optional<int64_t> end_arg, bool bit_unit) {
  const uint8_t* p = Bytes(value);
  auto strlen = static_cast<int64_t>(value.size());
  int64_t start = 0;
  int64_t end = strlen - 1;
  uint8_t first_mask = 0;
  uint8_t last_mask = 0;
  if (start_arg) {
    int64_t totlen = bit_unit ? strlen << 3 : strlen;
    start = *start_arg;
    end = end_arg ? *end_arg : totlen - 1;
    Clamp(totlen, &start, &end);
    if (bit_unit && start <= end) {
      first_mask = static_cast<uint8_t>(~((1 << (8 - (start & 7))) - 1) & 0xff);
      last_mask = static_cast<uint8_t>((1 << (7 - (end & 7))) - 1);
      start >>= 3;
      end >>= 3;
    }
  }
  if (start > end) return -1;

  // Search the first byte (edge bits forced to "not found"), the whole
  // bytes, then the last byte, in the order Redis does: the answer for a
  // clear bit depends on which part ran out.
  int64_t bytes = end - start + 1;
  int64_t pos = -1;
  uint8_t tmp = 0;
  auto masked = [bit](uint8_t byte, uint8_t mask) {
    return static_cast<uint8_t>(bit ? (byte & ~mask) : (byte | mask));
  };
  bool done = false;
  if (first_mask) {
    tmp = masked(p[start], first_mask);
    if (last_mask && bytes == 1) tmp = masked(tmp, last_mask);
    pos = FirstBit(&tmp, 1, bit);
    if (bytes == 1 || (pos != -1 && pos != 8)) {
      done = true;
    } else {
      ++start;
      --bytes;
    }
  }
  if (!done) {
    int64_t curbytes = bytes - (last_mask ? 1 : 0);
    if (curbytes > 0) {
      pos = FirstBit(p + start, curbytes, bit);
      if (bytes == curbytes || (pos != -1 && pos != curbytes << 3)) {
        done = true;
      } else {
        start += curbytes;
        bytes -= curbytes;
      }
    }
  }
  if (!done) {
    tmp = masked(p[end], last_mask);
    pos = FirstBit(&tmp, 1, bit);
  }
  // With an explicit end the bits past it are not zero padding: no clear
  // bit in the range means -1.
  if (end_arg && bit == 0 && pos == bytes << 3) return -1;
  if (pos != -1) pos += start << 3;
  return pos;
}

std::string BitOp(BitOpKind kind, const std::vector<std::optional<std::string_view>>& sources) {
  size_t maxlen = 0;
  for (const auto& s : sources) {
    if (s) maxlen = std::max(maxlen, s->size());
  }
  std::string out(maxlen, '\0');
  auto byte_of = [&](size_t k, size_t i) -> uint8_t {
    const auto& s = sources[k];
    return s && i < s->size() ? static_cast<uint8_t>((*s)[i]) : 0;
  };
  for (size_t i = 0; i < maxlen; ++i) {
    uint8_t acc = byte_of(0, i);
    if (kind == BitOpKind::kNot) {
      acc = static_cast<uint8_t>(~acc);
    } else {
      for (size_t k = 1; k < sources.size(); ++k) {
        uint8_t b = byte_of(k, i);
        if (kind == BitOpKind::kAnd) acc &= b;
        if (kind == BitOpKind::kOr) acc |= b;
        if (kind == BitOpKind::kXor) acc ^= b;
      }
    }
    out[i] = static_cast<char>(acc);
  }
  return out;
}

bool HasWrite(const std::vector<FieldOp>& ops) {
  return std::any_of(ops.begin(), ops.end(),
                     [](const FieldOp& op) { return op.kind != FieldOp::kGet; });
}

std::vector<std::optional<int64_t>> RunBitfield(std::string* value, const std::vector<FieldOp>& ops,
                                                bool* changed) {
  if (changed != nullptr) *changed = false;
  if (HasWrite(ops)) {
    uint64_t highest = 0;
    for (const auto& op : ops) {
      if (op.kind != FieldOp::kGet) highest = std::max(highest, op.offset + op.type.bits - 1);
    }
    if (value->size() < (highest >> 3) + 1) value->resize((highest >> 3) + 1, '\0');
  }
  std::vector<std::optional<int64_t>> replies;
  replies.reserve(ops.size());
  for (const auto& op : ops) {
    const int bits = op.type.bits;
    if (op.kind == FieldOp::kGet) {
      // Read through a zero-padded copy of the (up to 9) bytes the field
      // spans, so fields past the end of the string read as zero.
      uint8_t buf[9] = {};
      uint64_t byte = op.offset >> 3;
      for (uint64_t i = 0; i < 9 && byte + i < value->size(); ++i) {
        buf[i] = static_cast<uint8_t>((*value)[byte + i]);
      }
      uint64_t rel = op.offset - byte * 8;
      replies.push_back(op.type.is_signed ? GetSigned(buf, rel, bits)
                                          : static_cast<int64_t>(GetUnsigned(buf, rel, bits)));
      continue;
    }
    auto* p = reinterpret_cast<uint8_t*>(value->data());
    if (op.type.is_signed) {
      int64_t oldval = GetSigned(p, op.offset, bits);
      int64_t newval = 0;
      int64_t reply = 0;
      int64_t wrapped = 0;
      int overflow = 0;
      if (op.kind == FieldOp::kIncrBy) {
        overflow = SignedOverflow(oldval, op.value, bits, op.overflow, &wrapped);
        newval = overflow ? wrapped
                          : static_cast<int64_t>(static_cast<uint64_t>(oldval) +
                                                 static_cast<uint64_t>(op.value));
        reply = newval;
      } else {
        newval = op.value;
        overflow = SignedOverflow(newval, 0, bits, op.overflow, &wrapped);
        if (overflow) newval = wrapped;
        reply = oldval;
      }
      if (overflow && op.overflow == Overflow::kFail) {
        replies.push_back(std::nullopt);
      } else {
        replies.push_back(reply);
        SetField(p, op.offset, bits, static_cast<uint64_t>(newval));
        if (changed != nullptr && newval != oldval) *changed = true;
      }
    } else {
      uint64_t oldval = GetUnsigned(p, op.offset, bits);
      uint64_t newval = 0;
      uint64_t reply = 0;
      uint64_t wrapped = 0;
      int overflow = 0;
      if (op.kind == FieldOp::kIncrBy) {
        newval = oldval + static_cast<uint64_t>(op.value);
        overflow = UnsignedOverflow(oldval, op.value, bits, op.overflow, &wrapped);
        if (overflow) newval = wrapped;
        reply = newval;
      } else {
        newval = static_cast<uint64_t>(op.value);
        overflow = UnsignedOverflow(newval, 0, bits, op.overflow, &wrapped);
        if (overflow) newval = wrapped;
        reply = oldval;
      }
      if (overflow && op.overflow == Overflow::kFail) {
        replies.push_back(std::nullopt);
      } else {
        replies.push_back(static_cast<int64_t>(reply));
        SetField(p, op.offset, bits, newval);
        if (changed != nullptr && newval != oldval) *changed = true;
      }
    }
  }
  return replies;
}

}  // namespace tally::storage::bits
