// Reads string keys, their values and their expiry times from a
// Redis-protocol server, one SCAN step at a time: the shared source reader of
// `tally-server import` and `tally-server export`.
//
// Each step is one SCAN (with MATCH and COUNT), then one pipeline of GET and
// PTTL for every key it returned, then (only if some keys were not strings)
// one pipeline of TYPE for those. SCAN's guarantee carries over: every key
// that exists from the first step to the last is returned at least once; a
// key may be returned more than once. A key written while it is being read
// is read either before or after the write. SCAN cursors are stateless in
// Redis (and persistent in Tally), so an iteration can be continued later,
// even by another process, from a saved cursor.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "server/tools/resp_connection.h"

namespace tally::server::tools {

struct SourceKey {
  std::string key;
  std::string value;
  // Milliseconds left to live when it was read; -1 when it has no expiry.
  int64_t pttl_ms = -1;
};

struct SourceBatch {
  std::vector<SourceKey> keys;
  // Keys of other types, by the name TYPE gives (hash, list, set, ...).
  std::map<std::string, uint64_t> skipped_by_type;
  // Keys SCAN returned that were gone (expired or deleted), or had changed
  // type, by the time their value was read.
  uint64_t vanished = 0;
  // When GET and PTTL were sent: pttl_ms counts from here.
  std::chrono::steady_clock::time_point read_at;
  std::chrono::system_clock::time_point read_at_wall;
};

class KeySource {
 public:
  // Reads through `conn` (which must outlive this), keys matching `match`
  // (a glob; empty: all), asking SCAN for about `count` keys per step,
  // starting at `cursor` ("0": from the beginning).
  KeySource(RespConnection& conn, std::string match, int64_t count, std::string cursor = "0");

  // Reads the next step into *batch. Fails on I/O errors and on error
  // replies other than WRONGTYPE (which marks a key of another type).
  std::optional<std::string> Next(SourceBatch* batch);

  // True once SCAN has returned cursor 0: the iteration is complete.
  bool done() const { return done_; }
  // The cursor the next step starts from (what to save to resume).
  const std::string& cursor() const { return cursor_; }

  // DBSIZE of the source: every key, of any type, matching or not. For a
  // progress estimate only.
  std::optional<std::string> CountKeys(int64_t* keys);

 private:
  RespConnection& conn_;
  std::string match_;
  std::string count_;
  std::string cursor_;
  bool done_ = false;
};

}  // namespace tally::server::tools
