// The state of one Keyspace::Atomically call (MULTI/EXEC), reachable from its
// thread while the body runs.
#pragma once

#include <string_view>
#include <unordered_set>
#include <vector>

#include "storage/keyspace_impl.h"
#include "storage/write_set.h"

namespace tally::storage {

struct Transaction {
  Transaction(Keyspace::Impl* impl, const std::vector<std::string_view>& keys, bool all_keys,
              int64_t now_ms)
      : impl(impl), keys(keys.begin(), keys.end()), all_keys(all_keys), now_ms(now_ms) {}

  bool Covers(std::string_view key) const { return all_keys || keys.count(key) != 0; }
  // Abandons the transaction (its first failure is what Atomically returns)
  // and returns `status` for the failing operation.
  Status Fail(Status status) {
    if (failure.ok()) failure = status;
    return status;
  }

  Keyspace::Impl* const impl;
  // Views into the caller's vector, which outlives the call.
  const std::unordered_set<std::string_view> keys;
  const bool all_keys;
  // The clock stands still inside a transaction, as in Redis 7's EXEC.
  const int64_t now_ms;
  WriteSet set;
  Status failure;
};

}  // namespace tally::storage
