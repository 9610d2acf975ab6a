#include "storage/value_codec.h"

#include "storage/encoding.h"
#include "storage/numbers.h"

namespace tally::storage {
namespace {

constexpr uint8_t kHasExpiry = 1u << 0;
constexpr int kEncodingShift = 1;
constexpr uint8_t kEncodingMask = 3u << kEncodingShift;
constexpr uint8_t kKnownFlags = kHasExpiry | kEncodingMask;

Status Corrupt(const std::string& what) {
  return Status(Code::kIoError, "stored value is unreadable: " + what);
}

// Parses the header; *payload_offset is where the payload starts.
Status ParseHeader(std::string_view encoded, ValueHeader* header, uint8_t* flags,
                   size_t* payload_offset) {
  if (encoded.size() < 2) return Corrupt("shorter than its header");
  const auto tag = static_cast<uint8_t>(encoded[0]);
  if (tag != static_cast<uint8_t>(ValueType::kString)) {
    return Corrupt("unknown type tag " + std::to_string(tag) +
                   " (written by a newer version of Tally?)");
  }
  *flags = static_cast<uint8_t>(encoded[1]);
  if ((*flags & ~kKnownFlags) != 0) {
    return Corrupt("unknown flags " + std::to_string(*flags) +
                   " (written by a newer version of Tally?)");
  }
  header->type = ValueType::kString;
  header->expire_at_ms = 0;
  *payload_offset = 2;
  if (*flags & kHasExpiry) {
    if (encoded.size() < 10) return Corrupt("truncated expiry");
    header->expire_at_ms = static_cast<int64_t>(GetFixed64LE(encoded.substr(2)));
    *payload_offset = 10;
  }
  return Status();
}

}  // namespace

std::string StoredValue::Text() const {
  return encoding == StringEncoding::kInt ? FormatInt64(int_value) : raw;
}

int64_t StoredValue::TextLength() const {
  return encoding == StringEncoding::kInt ? static_cast<int64_t>(FormatInt64(int_value).size())
                                          : static_cast<int64_t>(raw.size());
}

StoredValue MakeString(std::string_view text, int64_t expire_at_ms) {
  if (std::optional<int64_t> number = ParseInt64(text)) return MakeInt(*number, expire_at_ms);
  StoredValue value;
  value.expire_at_ms = expire_at_ms;
  value.encoding = StringEncoding::kRaw;
  value.raw.assign(text);
  return value;
}

StoredValue MakeInt(int64_t number, int64_t expire_at_ms) {
  StoredValue value;
  value.expire_at_ms = expire_at_ms;
  value.encoding = StringEncoding::kInt;
  value.int_value = number;
  return value;
}

std::string EncodeValue(const StoredValue& value) {
  std::string out;
  out.reserve(10 + (value.encoding == StringEncoding::kInt ? 8 : value.raw.size()));
  uint8_t flags = static_cast<uint8_t>(static_cast<uint8_t>(value.encoding) << kEncodingShift);
  if (value.expire_at_ms != 0) flags |= kHasExpiry;
  out.push_back(static_cast<char>(value.type));
  out.push_back(static_cast<char>(flags));
  if (value.expire_at_ms != 0) PutFixed64LE(&out, static_cast<uint64_t>(value.expire_at_ms));
  if (value.encoding == StringEncoding::kInt) {
    PutFixed64LE(&out, static_cast<uint64_t>(value.int_value));
  } else {
    out.append(value.raw);
  }
  return out;
}

Status DecodeHeader(std::string_view encoded, ValueHeader* header) {
  uint8_t flags = 0;
  size_t payload_offset = 0;
  return ParseHeader(encoded, header, &flags, &payload_offset);
}

Status DecodeValue(std::string_view encoded, StoredValue* value) {
  ValueHeader header;
  uint8_t flags = 0;
  size_t payload_offset = 0;
  Status status = ParseHeader(encoded, &header, &flags, &payload_offset);
  if (!status.ok()) return status;
  const std::string_view payload = encoded.substr(payload_offset);
  value->type = header.type;
  value->expire_at_ms = header.expire_at_ms;
  switch ((flags & kEncodingMask) >> kEncodingShift) {
    case static_cast<int>(StringEncoding::kRaw):
      value->encoding = StringEncoding::kRaw;
      value->int_value = 0;
      value->raw.assign(payload);
      return Status();
    case static_cast<int>(StringEncoding::kInt):
      if (payload.size() != 8) return Corrupt("int64 payload is not 8 bytes");
      value->encoding = StringEncoding::kInt;
      value->int_value = static_cast<int64_t>(GetFixed64LE(payload));
      value->raw.clear();
      return Status();
    default:
      return Corrupt("unknown string encoding (written by a newer version of Tally?)");
  }
}

}  // namespace tally::storage
