#include "storage/layout.h"

#include "storage/encoding.h"

namespace tally::storage::layout {

std::string ExpiryIndexKey(int64_t expire_at_ms, std::string_view key) {
  std::string entry;
  entry.reserve(8 + key.size());
  PutFixed64BE(&entry, static_cast<uint64_t>(expire_at_ms));
  entry.append(key);
  return entry;
}

std::string ExpiryIndexBound(int64_t now_ms) {
  std::string bound;
  PutFixed64BE(&bound, static_cast<uint64_t>(now_ms) + 1);
  return bound;
}

bool ParseExpiryIndexKey(std::string_view entry, std::string_view* key) {
  if (entry.size() < 8) return false;
  *key = entry.substr(8);
  return true;
}

std::string EncodeInt64(int64_t value) {
  std::string out;
  PutFixed64LE(&out, static_cast<uint64_t>(value));
  return out;
}

bool DecodeInt64(std::string_view encoded, int64_t* value) {
  if (encoded.size() != 8) return false;
  *value = static_cast<int64_t>(GetFixed64LE(encoded));
  return true;
}

std::string CursorKey(uint64_t id) {
  std::string key(kCursorPrefix);
  PutFixed64BE(&key, id);
  return key;
}

bool ParseCursorKey(std::string_view key, uint64_t* id) {
  if (key.size() != kCursorPrefix.size() + 8 || !key.starts_with(kCursorPrefix)) return false;
  *id = GetFixed64BE(key.substr(kCursorPrefix.size()));
  return true;
}

// 8 bytes used_ms, 8 bytes step, 8 bytes length of last_key (all
// little-endian), last_key, previous_key.
std::string EncodeCursorState(const CursorState& state) {
  std::string out;
  out.reserve(24 + state.last_key.size() + state.previous_key.size());
  PutFixed64LE(&out, static_cast<uint64_t>(state.used_ms));
  PutFixed64LE(&out, state.step);
  PutFixed64LE(&out, state.last_key.size());
  out.append(state.last_key);
  out.append(state.previous_key);
  return out;
}

bool DecodeCursorState(std::string_view encoded, CursorState* state) {
  if (encoded.size() < 24) return false;
  const uint64_t step = GetFixed64LE(encoded.substr(8));
  const uint64_t last_size = GetFixed64LE(encoded.substr(16));
  if (step > UINT32_MAX || last_size > encoded.size() - 24) return false;
  state->used_ms = static_cast<int64_t>(GetFixed64LE(encoded));
  state->step = static_cast<uint32_t>(step);
  state->last_key.assign(encoded.substr(24, last_size));
  state->previous_key.assign(encoded.substr(24 + last_size));
  return true;
}

std::optional<std::string> PrefixSuccessor(std::string_view prefix) {
  std::string successor(prefix);
  // Trailing 0xff bytes cannot be incremented: drop them and carry left.
  while (!successor.empty() && static_cast<unsigned char>(successor.back()) == 0xff) {
    successor.pop_back();
  }
  if (successor.empty()) return std::nullopt;
  successor.back() = static_cast<char>(static_cast<unsigned char>(successor.back()) + 1);
  return successor;
}

}  // namespace tally::storage::layout
