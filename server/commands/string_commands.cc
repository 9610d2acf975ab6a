// GET, SET and its variants, GETSET, GETDEL, GETEX, STRLEN, MGET, MSET, MSETNX,
// APPEND, GETRANGE (SUBSTR), SETRANGE, LCS.
#include <limits>
#include <optional>

#include "server/commands/commands.h"
#include "server/commands/common.h"
#include "storage/lcs.h"
#include "storage/numbers.h"

namespace tally::server::commands {
namespace {

using storage::SetCondition;
using storage::SetOptions;
using storage::SetResult;
using storage::StringUpdate;

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

namespace {

constexpr std::string_view kErrTooBig =
    "ERR string exceeds maximum allowed size (proto-max-bulk-len)";

}  // namespace

// APPEND key value: the new length; the key keeps its TTL.
void Append(CommandContext& ctx) {
  const int64_t max_bulk = ProtoMaxBulkLen(ctx);
  std::string_view suffix = ctx.arg(2);
  bool too_big = false;
  size_t length = 0;
  auto status = ctx.keyspace().UpdateString({ctx.arg(1)}, [&](const auto& values, const auto&) {
    StringUpdate update;
    if (values[0] && static_cast<int64_t>(values[0]->size() + suffix.size()) > max_bulk) {
      too_big = true;
      return update;
    }
    update.action = StringUpdate::Action::kStore;
    update.value = values[0].value_or(std::string());
    update.value.append(suffix);
    length = update.value.size();
    return update;
  });
  if (!status.ok()) return ReplyStorageError(ctx, status);
  if (too_big) return ctx.reply.Error(kErrTooBig);
  ctx.reply.Integer(static_cast<int64_t>(length));
}

// GETRANGE key start end (and SUBSTR): inclusive, negative from the end.
void GetRange(CommandContext& ctx) {
  int64_t start = 0;
  int64_t end = 0;
  if (!ParseIntegerArg(ctx, ctx.arg(2), &start) || !ParseIntegerArg(ctx, ctx.arg(3), &end)) return;
  std::string value;
  auto status = ctx.keyspace().Get(ctx.arg(1), &value);
  if (status.code() == storage::Code::kNotFound) return ctx.reply.Bulk("");
  if (!status.ok()) return ReplyStorageError(ctx, status);
  const auto len = static_cast<int64_t>(value.size());
  if (start < 0 && end < 0 && start > end) return ctx.reply.Bulk("");
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (start > end || len == 0) return ctx.reply.Bulk("");
  ctx.reply.Bulk(std::string_view(value).substr(start, end - start + 1));
}

// SETRANGE key offset value: the new length; the key keeps its TTL.
void SetRange(CommandContext& ctx) {
  int64_t offset = 0;
  if (!ParseIntegerArg(ctx, ctx.arg(2), &offset)) return;
  if (offset < 0) return ctx.reply.Error("ERR offset is out of range");
  const int64_t max_bulk = ProtoMaxBulkLen(ctx);
  std::string_view patch = ctx.arg(3);
  bool too_big = false;
  size_t length = 0;
  auto status = ctx.keyspace().UpdateString({ctx.arg(1)}, [&](const auto& values, const auto&) {
    StringUpdate update;
    // Setting nothing answers the current length and writes nothing.
    if (patch.empty()) {
      length = values[0] ? values[0]->size() : 0;
      return update;
    }
    if (offset > max_bulk - static_cast<int64_t>(patch.size())) {
      too_big = true;
      return update;
    }
    update.action = StringUpdate::Action::kStore;
    update.value = values[0].value_or(std::string());
    const size_t needed = static_cast<size_t>(offset) + patch.size();
    if (update.value.size() < needed) update.value.resize(needed, '\0');
    update.value.replace(static_cast<size_t>(offset), patch.size(), patch);
    length = update.value.size();
    return update;
  });
  if (!status.ok()) return ReplyStorageError(ctx, status);
  if (too_big) return ctx.reply.Error(kErrTooBig);
  ctx.reply.Integer(static_cast<int64_t>(length));
}

// GETEX key [EX s | PX ms | EXAT s | PXAT ms | PERSIST]. As in Redis, the
// options are checked first, the key next (missing: nil, whatever the
// expiry), and the expiry value last.
void GetEx(CommandContext& ctx) {
  enum { kNone, kEx, kPx, kExAt, kPxAt, kPersist } kind = kNone;
  std::string_view expire_arg;
  for (size_t j = 2; j < ctx.argc(); ++j) {
    std::string_view opt = ctx.arg(j);
    const bool has_next = j + 1 < ctx.argc();
    auto timed = [&](std::string_view name, decltype(kind) k) {
      return EqualsNoCase(opt, name) && (kind == kNone || kind == k) && has_next;
    };
    if (EqualsNoCase(opt, "persist") && (kind == kNone || kind == kPersist)) {
      kind = kPersist;
    } else if (timed("ex", kEx)) {
      kind = kEx;
      expire_arg = ctx.arg(++j);
    } else if (timed("px", kPx)) {
      kind = kPx;
      expire_arg = ctx.arg(++j);
    } else if (timed("exat", kExAt)) {
      kind = kExAt;
      expire_arg = ctx.arg(++j);
    } else if (timed("pxat", kPxAt)) {
      kind = kPxAt;
      expire_arg = ctx.arg(++j);
    } else {
      return ctx.reply.Error(kErrSyntax);
    }
  }
  if (kind == kNone) return Get(ctx);
  std::string value;
  auto status = ctx.keyspace().Get(ctx.arg(1), &value);
  if (status.code() == storage::Code::kNotFound) return ctx.reply.Null();
  if (!status.ok()) return ReplyStorageError(ctx, status);
  int64_t at_ms = 0;
  if (kind != kPersist) {
    const bool seconds = kind == kEx || kind == kExAt;
    const bool relative = kind == kEx || kind == kPx;
    if (!ParseExpireArg(ctx, expire_arg, seconds ? ExpireUnit::kSeconds : ExpireUnit::kMilliseconds,
                        relative, &at_ms)) {
      return;
    }
  }
  // The value and the expiry change under one lock: the key may have
  // changed since the read above, and GETEX answers what it changed.
  const int64_t now = ctx.keyspace().NowMs();
  bool found = false;
  status = ctx.keyspace().UpdateString({ctx.arg(1)}, [&](const auto& values, const auto& expiry) {
    StringUpdate update;
    if (!values[0]) return update;
    found = true;
    value = *values[0];
    if (kind == kPersist) {
      if (expiry[0] == 0) return update;  // nothing to remove: no write
      update.expire_at_ms = 0;
    } else if (at_ms <= now) {
      update.action = StringUpdate::Action::kDelete;  // EXAT / PXAT in the past
      return update;
    } else {
      update.expire_at_ms = at_ms;
    }
    update.action = StringUpdate::Action::kStore;
    update.value = *values[0];
    return update;
  });
  if (!status.ok()) return ReplyStorageError(ctx, status);
  if (!found) return ctx.reply.Null();
  ctx.reply.Bulk(value);
}

// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]
void Lcs(CommandContext& ctx) {
  std::vector<std::optional<std::string>> values;
  auto status = ctx.keyspace().MGet({ctx.arg(1), ctx.arg(2)}, &values);
  if (!status.ok()) return ReplyStorageError(ctx, status);
  bool get_len = false;
  bool get_idx = false;
  bool with_match_len = false;
  int64_t min_match_len = 0;
  for (size_t j = 3; j < ctx.argc(); ++j) {
    std::string_view opt = ctx.arg(j);
    if (EqualsNoCase(opt, "idx")) {
      get_idx = true;
    } else if (EqualsNoCase(opt, "len")) {
      get_len = true;
    } else if (EqualsNoCase(opt, "withmatchlen")) {
      with_match_len = true;
    } else if (EqualsNoCase(opt, "minmatchlen") && j + 1 < ctx.argc()) {
      if (!ParseIntegerArg(ctx, ctx.arg(++j), &min_match_len)) return;
      if (min_match_len < 0) min_match_len = 0;
    } else {
      return ctx.reply.Error(kErrSyntax);
    }
  }
  if (get_idx && get_len) {
    return ctx.reply.Error("ERR If you want both the length and indexes, please just use IDX.");
  }
  const std::string a = values[0].value_or(std::string());
  const std::string b = values[1].value_or(std::string());
  constexpr size_t kMaxLen = std::numeric_limits<uint32_t>::max() - 1;
  if (a.size() >= kMaxLen || b.size() >= kMaxLen) {
    return ctx.reply.Error("ERR String too long for LCS");
  }
  if (storage::LcsTableBytes(a.size(), b.size()) > static_cast<uint64_t>(ProtoMaxBulkLen(ctx))) {
    return ctx.reply.Error(
        "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
  }
  auto result = storage::Lcs(a, b, !get_len && !get_idx, get_idx, min_match_len);
  if (!get_idx) {
    if (get_len) return ctx.reply.Integer(result.length);
    return ctx.reply.Bulk(result.text);
  }
  ctx.reply.MapHeader(2);
  ctx.reply.Bulk("matches");
  ctx.reply.ArrayHeader(result.matches.size());
  for (const auto& m : result.matches) {
    ctx.reply.ArrayHeader(with_match_len ? 3 : 2);
    ctx.reply.ArrayHeader(2);
    ctx.reply.Integer(m.a_start);
    ctx.reply.Integer(m.a_end);
    ctx.reply.ArrayHeader(2);
    ctx.reply.Integer(m.b_start);
    ctx.reply.Integer(m.b_end);
    if (with_match_len) ctx.reply.Integer(m.length);
  }
  ctx.reply.Bulk("len");
  ctx.reply.Integer(result.length);
}

}  // namespace tally::server::commands
