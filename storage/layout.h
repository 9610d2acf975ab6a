// The column families besides the data one, and the keys stored in them.
// (Values in the data column family are described in value_codec.h.)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tally::storage::layout {

// --- expiry: the time-ordered expiry index --------------------------------
// 8-byte big-endian expire_at_ms + user key -> empty. Big-endian makes
// RocksDB's bytewise order time order, so due entries are read from the front.
inline constexpr char kExpiryFamily[] = "expiry";

std::string ExpiryIndexKey(int64_t expire_at_ms, std::string_view key);
// Exclusive upper bound of the entries due at or before `now_ms`.
std::string ExpiryIndexBound(int64_t now_ms);
// The user key of an index entry; false if the entry is malformed.
bool ParseExpiryIndexKey(std::string_view entry, std::string_view* key);

// --- meta: bookkeeping ----------------------------------------------------
inline constexpr char kMetaFamily[] = "meta";

// int64 little-endian counts, adjusted by Merge (see merge_operators.h).
inline constexpr std::string_view kKeyCountKey = "count:keys";
inline constexpr std::string_view kExpiringCountKey = "count:expiring";
// The last SCAN iteration id handed out, int64 little-endian.
inline constexpr std::string_view kLastCursorIdKey = "cursor:last_id";
// SCAN iteration states: "iter:" + 8-byte big-endian iteration id -> a
// CursorState (EncodeCursorState). One entry per iteration, rewritten by
// each step (scan_cursors.h).
inline constexpr std::string_view kCursorPrefix = "iter:";
// Where releases before iteration states kept one entry per SCAN step; they
// are deleted at Open.
inline constexpr std::string_view kOldCursorPrefix = "scan:";
// Written with sync=true when recovering from a disk error, to prove the
// write-ahead log can be appended and synced again; value: unix ms, int64.
inline constexpr std::string_view kDiskProbeKey = "disk:probe";
// Kept in the meta family's memtable (never in the WAL) so that a recovery
// flush always opens a fresh WAL; see memtable_sentinel.h. Empty value.
inline constexpr std::string_view kMemtableSentinelKey = "memtable:sentinel";

std::string EncodeInt64(int64_t value);
bool DecodeInt64(std::string_view encoded, int64_t* value);

std::string CursorKey(uint64_t id);
bool ParseCursorKey(std::string_view key, uint64_t* id);

// Where an iteration stands: the last key its latest step examined, and the
// one before (so that a client may repeat its last step).
struct CursorState {
  int64_t used_ms = 0;  // when a step last used it
  uint32_t step = 0;    // the latest step's number (the cursor's low bits)
  std::string last_key;
  std::string previous_key;
};
std::string EncodeCursorState(const CursorState& state);
bool DecodeCursorState(std::string_view encoded, CursorState* state);

// --- ranges ---------------------------------------------------------------
// The smallest key greater than every key that starts with `prefix`, for
// iterate_upper_bound; nullopt when no such key exists (an empty prefix or one
// made only of 0xff bytes), meaning "to the end".
std::optional<std::string> PrefixSuccessor(std::string_view prefix);

}  // namespace tally::storage::layout
