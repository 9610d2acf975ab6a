// PFADD, PFCOUNT, PFMERGE: Redis 7.0's HyperLogLog commands on string values
// in Redis's own representation (storage/hyperloglog.h), so values move
// between Redis and Tally with GET / SET and keep counting the same.
#include <optional>
#include <string>

#include "server/commands/commands.h"
#include "server/commands/common.h"
#include "storage/hyperloglog.h"

namespace tally::server::commands {
namespace {

namespace hll = storage::hll;
using storage::StringUpdate;

constexpr std::string_view kErrNotHll = "WRONGTYPE Key is not a valid HyperLogLog string value.";
constexpr std::string_view kErrCorrupted = "INVALIDOBJ Corrupted HLL object detected";

// What a callback found wrong, replied after the storage call returns.
enum class HllError { kNone, kNotHll, kCorrupted };

void ReplyHllError(CommandContext& ctx, HllError error) {
  ctx.reply.Error(error == HllError::kNotHll ? kErrNotHll : kErrCorrupted);
}

}  // namespace

// PFADD key [element ...]: 1 when the key was created or a register grew.
void PfAdd(CommandContext& ctx) {
  HllError error = HllError::kNone;
  bool updated = false;
  auto status = ctx.keyspace().UpdateString({ctx.arg(1)}, [&](const auto& values, const auto&) {
    StringUpdate update;
    if (values[0] && !hll::IsHll(*values[0])) {
      error = HllError::kNotHll;
      return update;
    }
    update.value = values[0] ? *values[0] : hll::Empty();
    updated = !values[0];
    for (size_t j = 2; j < ctx.argc(); ++j) {
      int r = hll::Add(&update.value, ctx.arg(j));
      if (r < 0) {
        error = HllError::kCorrupted;
        return StringUpdate();
      }
      updated = updated || r == 1;
    }
    if (updated) {
      // A new key's cache is marked stale too, as Redis does.
      hll::InvalidateCache(&update.value);
      update.action = StringUpdate::Action::kStore;
    }
    return update;
  });
  if (!status.ok()) return ReplyStorageError(ctx, status);
  if (error != HllError::kNone) return ReplyHllError(ctx, error);
  ctx.reply.Integer(updated ? 1 : 0);
}

// PFCOUNT key [key ...]: one key answers (and caches in the value, as Redis
// does) its cardinality; several keys the cardinality of their union.
void PfCount(CommandContext& ctx) {
  HllError error = HllError::kNone;
  if (ctx.argc() > 2) {
    std::vector<std::optional<std::string>> values;
    auto status = ctx.keyspace().MGet(ArgsFrom(ctx, 1), &values);
    if (!status.ok()) return ReplyStorageError(ctx, status);
    hll::Registers max{};
    for (const auto& value : values) {
      if (!value) continue;
      if (!hll::IsHll(*value)) return ReplyHllError(ctx, HllError::kNotHll);
      if (!hll::MergeInto(*value, &max)) return ReplyHllError(ctx, HllError::kCorrupted);
    }
    return ctx.reply.Integer(static_cast<int64_t>(hll::CountRegisters(max)));
  }
  uint64_t count = 0;
  auto status = ctx.keyspace().UpdateString({ctx.arg(1)}, [&](const auto& values, const auto&) {
    StringUpdate update;
    if (!values[0]) return update;
    if (!hll::IsHll(*values[0])) {
      error = HllError::kNotHll;
      return update;
    }
    update.value = *values[0];
    bool cache_written = false;
    auto c = hll::Count(&update.value, &cache_written);
    if (!c) {
      error = HllError::kCorrupted;
      return StringUpdate();
    }
    count = *c;
    if (cache_written) update.action = StringUpdate::Action::kStore;
    return update;
  });
  if (!status.ok()) return ReplyStorageError(ctx, status);
  if (error != HllError::kNone) return ReplyHllError(ctx, error);
  ctx.reply.Integer(static_cast<int64_t>(count));
}

// PFMERGE destkey [sourcekey ...]: the destination takes part in the union.
void PfMerge(CommandContext& ctx) {
  HllError error = HllError::kNone;
  auto status = ctx.keyspace().UpdateString(ArgsFrom(ctx, 1), [&](const auto& values, const auto&) {
    hll::Registers max{};
    bool use_dense = false;
    for (const auto& value : values) {
      if (!value) continue;
      if (!hll::IsHll(*value)) {
        error = HllError::kNotHll;
        return StringUpdate();
      }
      if (hll::IsDense(*value)) use_dense = true;
      if (!hll::MergeInto(*value, &max)) {
        error = HllError::kCorrupted;
        return StringUpdate();
      }
    }
    StringUpdate update;
    update.value = values[0] ? *values[0] : hll::Empty();
    if (!hll::StoreMerged(&update.value, max, use_dense)) {
      error = HllError::kCorrupted;
      return StringUpdate();
    }
    update.action = StringUpdate::Action::kStore;
    return update;
  });
  if (!status.ok()) return ReplyStorageError(ctx, status);
  if (error != HllError::kNone) return ReplyHllError(ctx, error);
  ctx.reply.Ok();
}

}  // namespace tally::server::commands
