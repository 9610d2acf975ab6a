// KEYS and SCAN. Both seek to the pattern's literal prefix and stop at its
// successor, so `usage:*` touches only keys under `usage:`. The calling
// thread's pending writes (its write group's or transaction's WriteSet) are
// merged in: a key the set wrote is taken from the set, not from RocksDB.
#include <algorithm>

#include "storage/glob.h"
#include "storage/keyspace_impl.h"

namespace tally::storage {
namespace {

// One SCAN step examines at most this many keys, whatever COUNT says, so a
// single call cannot monopolise a thread for long.
constexpr int64_t kMaxScanCount = 250'000;

// Adds to *keys the keys in [from, to) (to: nullopt, the end) that `set`
// wrote and that are live, match `pattern` and are of `type`.
void AddPending(const WriteSet* set, std::string_view from, const std::optional<std::string>& to,
                std::string_view pattern, std::optional<KeyType> type, int64_t now,
                std::vector<std::string>* keys) {
  if (set == nullptr) return;
  for (auto it = set->writes().lower_bound(from); it != set->writes().end(); ++it) {
    if (to && it->first >= *to) break;
    const std::optional<StoredValue>& value = it->second.value;
    if (!value || IsExpired(value->expire_at_ms, now)) continue;
    if (type && *type != KeyTypeOf(value->type)) continue;
    if (GlobMatch(pattern, it->first)) keys->push_back(it->first);
  }
}

// Whether RocksDB's entry for `key` is what the thread sees of it: not when
// the set has written the key, or has reset everything.
bool FromRocksDb(const WriteSet* set, std::string_view key) {
  return set == nullptr || (!set->reset() && set->Find(key) == nullptr);
}

}  // namespace

BoundedIterator::BoundedIterator(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family,
                                 std::optional<std::string> upper_bound)
    : upper_bound_(std::move(upper_bound)) {
  if (upper_bound_) {
    upper_slice_ = *upper_bound_;
    read_options_.iterate_upper_bound = &upper_slice_;
  }
  it_.reset(db->NewIterator(read_options_, family));
}

Status Keyspace::Impl::Visible(std::string_view key, std::string_view encoded,
                               std::string_view pattern, std::optional<KeyType> type, int64_t now,
                               bool* visible) {
  ValueHeader header;
  Status status = DecodeHeader(encoded, &header);
  if (!status.ok()) return status;
  *visible = !IsExpired(header.expire_at_ms, now) && (!type || *type == KeyTypeOf(header.type)) &&
             GlobMatch(pattern, key);
  return Status();
}

Status Keyspace::Keys(std::string_view pattern, std::vector<std::string>* keys) {
  keys->clear();
  const int64_t now = NowMs();
  const WriteSet* set = impl_->ActiveSet();
  const std::string_view prefix = GlobLiteralPrefix(pattern);
  const std::optional<std::string> bound = layout::PrefixSuccessor(prefix);
  BoundedIterator it(impl_->db, impl_->data, bound);
  for (it.Seek(prefix); it.Valid(); it.Next()) {
    if (!FromRocksDb(set, it.key())) continue;
    bool visible = false;
    Status status = impl_->Visible(it.key(), it.value(), pattern, std::nullopt, now, &visible);
    if (!status.ok()) return impl_->Noted(status);
    if (visible) keys->emplace_back(it.key());
  }
  if (!it.status().ok()) return impl_->Noted(IoError(it.status()));
  const size_t stored = keys->size();
  AddPending(set, prefix, bound, pattern, std::nullopt, now, keys);
  std::inplace_merge(keys->begin(), keys->begin() + static_cast<ptrdiff_t>(stored), keys->end());
  return Status();
}

Status Keyspace::Scan(uint64_t cursor, std::string_view pattern, int64_t count,
                      std::optional<KeyType> type, ScanResult* result) {
  *result = ScanResult();
  const int64_t now = NowMs();
  const WriteSet* set = impl_->ActiveSet();
  const std::string_view prefix = GlobLiteralPrefix(pattern);
  std::string start(prefix);
  if (cursor != 0) {
    std::string resume_at;
    Status status = impl_->cursors.Resume(cursor, now, &resume_at);
    if (!status.ok()) return status;
    // The pattern may differ between steps; never go back before its prefix.
    start = std::max(start, resume_at);
  }

  std::optional<std::string> bound = layout::PrefixSuccessor(prefix);
  BoundedIterator it(impl_->db, impl_->data, bound);
  const int64_t budget = std::clamp<int64_t>(count, 1, kMaxScanCount);
  std::string last_key;
  it.Seek(start);
  for (int64_t examined = 0; it.Valid() && examined < budget; ++examined, it.Next()) {
    last_key.assign(it.key());
    if (!FromRocksDb(set, it.key())) continue;
    bool visible = false;
    Status status = impl_->Visible(it.key(), it.value(), pattern, type, now, &visible);
    if (!status.ok()) return impl_->Noted(status);
    if (visible) result->keys.emplace_back(it.key());
  }
  if (!it.status().ok()) return impl_->Noted(IoError(it.status()));
  const bool more = it.Valid();
  // The set's keys in the range this step covered.
  if (more) {
    bound = last_key;
    bound->push_back('\0');
  }
  const size_t stored = result->keys.size();
  AddPending(set, start, bound, pattern, type, now, &result->keys);
  std::inplace_merge(result->keys.begin(), result->keys.begin() + static_cast<ptrdiff_t>(stored),
                     result->keys.end());
  if (more) result->next_cursor = impl_->cursors.Advance(cursor, last_key, now);
  return Status();
}

}  // namespace tally::storage
