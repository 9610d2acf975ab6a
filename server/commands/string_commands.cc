// GET, SET and its variants, GETSET, GETDEL, STRLEN, MGET, MSET, MSETNX.
#include <limits>
#include <optional>

#include "server/commands/commands.h"
#include "server/commands/common.h"
#include "storage/numbers.h"

namespace tally::server::commands {
namespace {

using storage::SetCondition;
using storage::SetOptions;
using storage::SetResult;

enum class ExpireUnit { kSeconds, kMilliseconds };

// Turns an EX/PX/EXAT/PXAT argument into an absolute time in ms, with Redis's
// validation (getExpireMillisecondsOrReply): the number must be positive and
// the result must not overflow. Replies and returns false on bad input.
bool ParseExpireArg(CommandContext& ctx, std::string_view text, ExpireUnit unit, bool relative,
                    int64_t* at_ms) {
  int64_t value;
  if (!ParseIntegerArg(ctx, text, &value)) return false;
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  if (value <= 0 || (unit == ExpireUnit::kSeconds && value > kMax / 1000)) {
    ReplyInvalidExpireTime(ctx);
    return false;
  }
  if (unit == ExpireUnit::kSeconds) value *= 1000;
  if (relative) {
    int64_t now = ctx.keyspace().NowMs();
    if (value > kMax - now) {
      ReplyInvalidExpireTime(ctx);
      return false;
    }
    value += now;
  }
  *at_ms = value;
  return true;
}

void ReplySetResult(CommandContext& ctx, const SetOptions& options, const SetResult& result) {
  if (options.get_old) {
    if (result.old_value) return ctx.reply.Bulk(*result.old_value);
    return ctx.reply.Null();
  }
  if (result.applied) return ctx.reply.Ok();
  ctx.reply.Null();
}

void DoSet(CommandContext& ctx, std::string_view key, std::string_view value,
           const SetOptions& options) {
  SetResult result;
  auto status = ctx.keyspace().Set(key, value, options, &result);
  if (!status.ok()) return ReplyStorageError(ctx, status);
  ReplySetResult(ctx, options, result);
}

}  // namespace

void Get(CommandContext& ctx) {
  std::string value;
  auto status = ctx.keyspace().Get(ctx.arg(1), &value);
  if (status.code() == storage::Code::kNotFound) {
    ctx.server.stats.keyspace_misses.fetch_add(1, std::memory_order_relaxed);
    return ctx.reply.Null();
  }
  if (!status.ok()) return ReplyStorageError(ctx, status);
  ctx.server.stats.keyspace_hits.fetch_add(1, std::memory_order_relaxed);
  ctx.reply.Bulk(value);
}

// SET key value [NX | XX] [GET] [EX s | PX ms | EXAT s | PXAT ms | KEEPTTL]
// Option parsing follows Redis's parseExtendedStringArgumentsOrReply: a
// conflicting or unknown option, or a missing value, is a syntax error.
void Set(CommandContext& ctx) {
  SetOptions options;
  enum { kNone, kEx, kPx, kExAt, kPxAt } expire_kind = kNone;
  std::string_view expire_arg;
  for (size_t j = 3; j < ctx.argc(); ++j) {
    std::string_view opt = ctx.arg(j);
    bool has_next = j + 1 < ctx.argc();
    bool has_expire = expire_kind != kNone;
    if (EqualsNoCase(opt, "nx") && options.condition != SetCondition::kIfExists) {
      options.condition = SetCondition::kIfMissing;
    } else if (EqualsNoCase(opt, "xx") && options.condition != SetCondition::kIfMissing) {
      options.condition = SetCondition::kIfExists;
    } else if (EqualsNoCase(opt, "get")) {
      options.get_old = true;
    } else if (EqualsNoCase(opt, "keepttl") && !has_expire) {
      options.keep_ttl = true;
    } else if (EqualsNoCase(opt, "ex") && !options.keep_ttl &&
               (expire_kind == kNone || expire_kind == kEx) && has_next) {
      expire_kind = kEx;
      expire_arg = ctx.arg(++j);
    } else if (EqualsNoCase(opt, "px") && !options.keep_ttl &&
               (expire_kind == kNone || expire_kind == kPx) && has_next) {
      expire_kind = kPx;
      expire_arg = ctx.arg(++j);
    } else if (EqualsNoCase(opt, "exat") && !options.keep_ttl &&
               (expire_kind == kNone || expire_kind == kExAt) && has_next) {
      expire_kind = kExAt;
      expire_arg = ctx.arg(++j);
    } else if (EqualsNoCase(opt, "pxat") && !options.keep_ttl &&
               (expire_kind == kNone || expire_kind == kPxAt) && has_next) {
      expire_kind = kPxAt;
      expire_arg = ctx.arg(++j);
    } else {
      return ctx.reply.Error(kErrSyntax);
    }
  }
  if (expire_kind != kNone) {
    bool seconds = expire_kind == kEx || expire_kind == kExAt;
    bool relative = expire_kind == kEx || expire_kind == kPx;
    if (!ParseExpireArg(ctx, expire_arg, seconds ? ExpireUnit::kSeconds : ExpireUnit::kMilliseconds,
                        relative, &options.expire_at_ms)) {
      return;
    }
  }
  DoSet(ctx, ctx.arg(1), ctx.arg(2), options);
}

void SetNx(CommandContext& ctx) {
  SetOptions options;
  options.condition = SetCondition::kIfMissing;
  SetResult result;
  auto status = ctx.keyspace().Set(ctx.arg(1), ctx.arg(2), options, &result);
  if (!status.ok()) return ReplyStorageError(ctx, status);
  ctx.reply.Integer(result.applied ? 1 : 0);
}

void SetEx(CommandContext& ctx) {
  SetOptions options;
  if (!ParseExpireArg(ctx, ctx.arg(2), ExpireUnit::kSeconds, true, &options.expire_at_ms)) return;
  DoSet(ctx, ctx.arg(1), ctx.arg(3), options);
}

void PSetEx(CommandContext& ctx) {
  SetOptions options;
  if (!ParseExpireArg(ctx, ctx.arg(2), ExpireUnit::kMilliseconds, true, &options.expire_at_ms)) {
    return;
  }
  DoSet(ctx, ctx.arg(1), ctx.arg(3), options);
}

void GetSet(CommandContext& ctx) {
  SetOptions options;
  options.get_old = true;
  DoSet(ctx, ctx.arg(1), ctx.arg(2), options);
}

void GetDel(CommandContext& ctx) {
  std::string value;
  auto status = ctx.keyspace().GetDel(ctx.arg(1), &value);
  if (status.code() == storage::Code::kNotFound) return ctx.reply.Null();
  if (!status.ok()) return ReplyStorageError(ctx, status);
  ctx.reply.Bulk(value);
}

void Strlen(CommandContext& ctx) {
  int64_t length = 0;
  auto status = ctx.keyspace().Strlen(ctx.arg(1), &length);
  if (!status.ok()) return ReplyStorageError(ctx, status);
  ctx.reply.Integer(length);
}

void MGet(CommandContext& ctx) {
  std::vector<std::optional<std::string>> values;
  auto status = ctx.keyspace().MGet(ArgsFrom(ctx, 1), &values);
  if (!status.ok()) return ReplyStorageError(ctx, status);
  ctx.reply.ArrayHeader(values.size());
  for (const auto& value : values) {
    if (value) {
      ctx.reply.Bulk(*value);
    } else {
      ctx.reply.Null();
    }
  }
}

namespace {

// MSET and MSETNX take key/value pairs; an odd count is an arity error.
bool CollectPairs(CommandContext& ctx,
                  std::vector<std::pair<std::string_view, std::string_view>>* pairs) {
  if (ctx.argc() % 2 == 0) {
    ctx.reply.Error("ERR wrong number of arguments for '" + CommandName(ctx) + "' command");
    return false;
  }
  pairs->reserve(ctx.argc() / 2);
  for (size_t i = 1; i + 1 < ctx.argc(); i += 2) pairs->emplace_back(ctx.arg(i), ctx.arg(i + 1));
  return true;
}

}  // namespace

void MSet(CommandContext& ctx) {
  std::vector<std::pair<std::string_view, std::string_view>> pairs;
  if (!CollectPairs(ctx, &pairs)) return;
  auto status = ctx.keyspace().MSet(pairs);
  if (!status.ok()) return ReplyStorageError(ctx, status);
  ctx.reply.Ok();
}

void MSetNx(CommandContext& ctx) {
  std::vector<std::pair<std::string_view, std::string_view>> pairs;
  if (!CollectPairs(ctx, &pairs)) return;
  bool applied = false;
  auto status = ctx.keyspace().MSetNx(pairs, &applied);
  if (!status.ok()) return ReplyStorageError(ctx, status);
  ctx.reply.Integer(applied ? 1 : 0);
}

}  // namespace tally::server::commands
