// SCAN cursors. A Tally SCAN position is the last key a step examined, of
// any length, while clients (redis-py, node-redis) parse cursors as numbers.
// So a cursor names an iteration and a step: the iteration id in the high
// bits (below 2^53 in all, so a cursor stays exact as a JavaScript number)
// and the step's number in the low 20. One state per iteration holds where
// its latest step stopped and where the step before stopped, so a client may
// repeat its last step (a retry after a timeout) and still see every key.
//
// States live in memory and are copied to the meta column family when the
// disk takes writes, so a cursor survives a restart; a failing disk never
// fails a SCAN (Redis keeps SCAN working then, and redis-cli --scan with
// it). States unused for cursor_lifetime_ms are dropped by the reaper.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "storage/keyspace.h"
#include "storage/layout.h"

namespace tally::storage {

class ScanCursors {
 public:
  static constexpr int kStepBits = 20;
  static constexpr uint64_t kStepMask = (uint64_t{1} << kStepBits) - 1;
  // Iteration ids wrap below this, so cursors stay below 2^53.
  static constexpr uint64_t kMaxIteration = (uint64_t{1} << (53 - kStepBits)) - 1;

  explicit ScanCursors(Keyspace::Impl& impl) : impl_(impl) {}

  // At Open: where iteration ids continue, and drop older releases' states.
  Status Open();
  // Where the step named by `cursor` (not 0) resumes: the smallest key after
  // the one the step it continues examined last. kInvalidCursor for a cursor
  // this keyspace never handed out, or one past its lifetime.
  Status Resume(uint64_t cursor, int64_t now, std::string* resume_at);
  // A step that began at `cursor` (0: a new iteration) examined keys up to
  // `last_key` and more remain: returns the cursor of the next step.
  uint64_t Advance(uint64_t cursor, std::string_view last_key, int64_t now);
  // Drops states unused for the cursor lifetime (the reaper's round).
  Status Reap(int64_t now);

 private:
  // The iteration's state from memory, or from the meta family after a
  // restart; false if neither has it.
  bool Find(uint64_t iteration, layout::CursorState* state);
  void Store(uint64_t iteration, const layout::CursorState& state);

  Keyspace::Impl& impl_;
  mutable std::mutex mu_;
  std::unordered_map<uint64_t, layout::CursorState> states_;  // guarded by mu_
  uint64_t last_iteration_ = 0;                               // guarded by mu_
};

}  // namespace tally::storage
