// Fixed-width integer encodings for the on-disk formats. Big-endian where
// RocksDB's bytewise key order must follow numeric order (expiry index, cursor
// ids); little-endian for plain stored numbers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tally::storage {

inline void PutFixed64BE(std::string* out, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(value >> shift));
}

inline void PutFixed64LE(std::string* out, uint64_t value) {
  for (int shift = 0; shift < 64; shift += 8) out->push_back(static_cast<char>(value >> shift));
}

// Both readers expect at least 8 bytes; callers check the length first.
inline uint64_t GetFixed64BE(std::string_view in) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | static_cast<unsigned char>(in[i]);
  return value;
}

inline uint64_t GetFixed64LE(std::string_view in) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(in[i]);
  return value;
}

}  // namespace tally::storage
