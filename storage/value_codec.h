// The format of values in the data column family. Every value starts with a
// two-byte header shared by all types, so expiry can be read without knowing
// the type:
//
//   byte 0    type tag (1 = string)
//   byte 1    flags: bit 0 has_expiry, bits 1-2 string encoding (0 raw, 1 int64);
//             other bits are reserved and must be zero
//   8 bytes   expire_at_ms, little-endian (only when has_expiry)
//   payload   raw: the bytes as given; int64: 8 bytes little-endian
//
// A future type or format gets a new tag or flag bit; a value this build does
// not understand decodes to a clear error instead of being misread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/status.h"

namespace tally::storage {

enum class ValueType : uint8_t { kString = 1 };
enum class StringEncoding : uint8_t { kRaw = 0, kInt = 1 };

// What scans need: type and expiry, without copying the payload.
struct ValueHeader {
  ValueType type = ValueType::kString;
  int64_t expire_at_ms = 0;  // 0: no expiry.
};

struct StoredValue {
  ValueType type = ValueType::kString;
  int64_t expire_at_ms = 0;  // 0: no expiry.
  StringEncoding encoding = StringEncoding::kRaw;
  int64_t int_value = 0;  // kInt.
  std::string raw;        // kRaw.

  // The value as GET returns it; an int64 comes back as its decimal text.
  std::string Text() const;
  // Text().size() without building the text for raw values.
  int64_t TextLength() const;
};

// A string value, int-encoded whenever ParseInt64 accepts `text` (so its text
// round-trips exactly: "10" is int-encoded, "010" stays raw).
StoredValue MakeString(std::string_view text, int64_t expire_at_ms);
StoredValue MakeInt(int64_t value, int64_t expire_at_ms);

std::string EncodeValue(const StoredValue& value);
// kIoError naming the problem for truncated bytes or an unknown tag or flag.
Status DecodeValue(std::string_view encoded, StoredValue* value);
Status DecodeHeader(std::string_view encoded, ValueHeader* header);

}  // namespace tally::storage
