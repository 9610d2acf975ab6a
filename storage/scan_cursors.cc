#include "storage/scan_cursors.h"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <vector>

#include "storage/keyspace_impl.h"

namespace tally::storage {

Status ScanCursors::Open() {
  int64_t last = 0;
  Status status = impl_.ReadMetaInt64(layout::kLastCursorIdKey, &last);
  if (!status.ok()) return status;
  // Concurrent steps may record the last id out of order, so ids continue
  // after the larger of it and the highest state still stored.
  uint64_t highest = 0;
  {
    BoundedIterator it(impl_.db, impl_.meta, layout::PrefixSuccessor(layout::kCursorPrefix));
    it.SeekToLast();
    if (it.Valid()) layout::ParseCursorKey(it.key(), &highest);
    if (!it.status().ok()) return IoError(it.status());
  }
  last_iteration_ = std::max(static_cast<uint64_t>(last), highest) % kMaxIteration;
  // States of releases that kept one per step: they are of no use now.
  rocksdb::WriteBatch batch;
  rocksdb::Status dropped = batch.DeleteRange(impl_.meta, layout::kOldCursorPrefix,
                                              *layout::PrefixSuccessor(layout::kOldCursorPrefix));
  if (dropped.ok()) dropped = impl_.db->Write(impl_.write_options, &batch);
  return dropped.ok() ? Status() : IoError(dropped);
}

bool ScanCursors::Find(uint64_t iteration, layout::CursorState* state) {
  auto it = states_.find(iteration);
  if (it != states_.end()) {
    *state = it->second;
    return true;
  }
  std::string encoded;
  rocksdb::Status status =
      impl_.db->Get(rocksdb::ReadOptions(), impl_.meta, layout::CursorKey(iteration), &encoded);
  if (!status.ok() || !layout::DecodeCursorState(encoded, state)) return false;
  states_.emplace(iteration, *state);
  return true;
}

void ScanCursors::Store(uint64_t iteration, const layout::CursorState& state) {
  states_[iteration] = state;
  // Best effort: a state that could not be written lives in memory only and
  // is lost by a restart, which makes its cursor invalid then.
  if (!impl_.disk.CheckWritable().ok()) return;
  rocksdb::WriteBatch batch;
  rocksdb::Status status =
      batch.Put(impl_.meta, layout::CursorKey(iteration), layout::EncodeCursorState(state));
  if (status.ok()) {
    status = batch.Put(impl_.meta, layout::kLastCursorIdKey,
                       layout::EncodeInt64(static_cast<int64_t>(last_iteration_)));
  }
  if (status.ok()) status = impl_.db->Write(impl_.write_options, &batch);
  if (!status.ok()) impl_.disk.Failed(status.ToString());
}

Status ScanCursors::Resume(uint64_t cursor, int64_t now, std::string* resume_at) {
  const uint64_t iteration = cursor >> kStepBits;
  const uint32_t step = static_cast<uint32_t>(cursor & kStepMask);
  std::lock_guard lock(mu_);
  layout::CursorState state;
  if (iteration == 0 || !Find(iteration, &state) ||
      now - state.used_ms >= impl_.options.cursor_lifetime_ms) {
    return Status(Code::kInvalidCursor);
  }
  if (step == state.step) {
    *resume_at = state.last_key;
  } else if (step == ((state.step - 1) & kStepMask)) {
    *resume_at = state.previous_key;  // the client repeats its last step
  } else {
    return Status(Code::kInvalidCursor);
  }
  resume_at->push_back('\0');  // the smallest key after the one examined
  return Status();
}

uint64_t ScanCursors::Advance(uint64_t cursor, std::string_view last_key, int64_t now) {
  std::lock_guard lock(mu_);
  uint64_t iteration = cursor >> kStepBits;
  layout::CursorState state;
  if (cursor == 0 || !Find(iteration, &state)) {
    last_iteration_ = last_iteration_ >= kMaxIteration ? 1 : last_iteration_ + 1;
    iteration = last_iteration_;
    state = layout::CursorState{now, 1, std::string(last_key), {}};
  } else if ((cursor & kStepMask) == state.step) {
    state.previous_key = std::move(state.last_key);
    state.last_key.assign(last_key);
    state.step = static_cast<uint32_t>((state.step + 1) & kStepMask);
    if (state.step == 0) state.step = 1;  // step 0 with iteration 0 would read as "done"
  } else {
    state.last_key.assign(last_key);  // a repeated step: it replaces the latest one
  }
  state.used_ms = now;
  Store(iteration, state);
  return (iteration << kStepBits) | state.step;
}

Status ScanCursors::Reap(int64_t now) {
  std::vector<uint64_t> expired;
  {
    std::lock_guard lock(mu_);
    for (const auto& [iteration, state] : states_) {
      if (now - state.used_ms >= impl_.options.cursor_lifetime_ms) expired.push_back(iteration);
    }
    for (uint64_t iteration : expired) states_.erase(iteration);
  }
  // Stored states: those of iterations unused since before a restart too.
  // Iteration ids grow with time, so the oldest come first: stop at a live one.
  rocksdb::WriteBatch batch;
  BoundedIterator it(impl_.db, impl_.meta, layout::PrefixSuccessor(layout::kCursorPrefix));
  for (it.Seek(layout::kCursorPrefix); it.Valid() && batch.Count() < 16'384; it.Next()) {
    uint64_t iteration = 0;
    layout::CursorState state;
    layout::ParseCursorKey(it.key(), &iteration);
    bool live = layout::DecodeCursorState(it.value(), &state) &&
                now - state.used_ms < impl_.options.cursor_lifetime_ms;
    {
      std::lock_guard lock(mu_);
      live = live || states_.count(iteration) != 0;
    }
    if (live) break;
    rocksdb::Status status = batch.Delete(impl_.meta, it.key());
    if (!status.ok()) return IoError(status);
  }
  if (!it.status().ok()) return IoError(it.status());
  if (batch.Count() == 0) return Status();
  if (Status writable = impl_.disk.CheckWritable(); !writable.ok()) return writable;
  rocksdb::Status status = impl_.db->Write(impl_.write_options, &batch);
  return status.ok() ? Status() : impl_.disk.Failed(status.ToString());
}

}  // namespace tally::storage
