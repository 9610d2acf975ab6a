// Commands on keys regardless of their value: DEL/UNLINK, EXISTS, TYPE, KEYS,
// SCAN, DBSIZE, FLUSHDB/FLUSHALL and the expiry family.
#include <cerrno>
#include <cstdlib>
#include <limits>

#include "server/commands/commands.h"
#include "server/commands/common.h"

namespace tally::server::commands {
namespace {

using storage::ExpireCondition;

enum class ExpireUnit { kSeconds, kMilliseconds };

// EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT share Redis's expireGenericCommand: the
// NX/XX/GT/LT options, overflow checks on unit conversion and base time, then
// the conditional update (a time in the past deletes the key).
void ExpireGeneric(CommandContext& ctx, bool relative, ExpireUnit unit) {
  bool nx = false, xx = false, gt = false, lt = false;
  for (size_t j = 3; j < ctx.argc(); ++j) {
    std::string_view opt = ctx.arg(j);
    if (EqualsNoCase(opt, "nx"))
      nx = true;
    else if (EqualsNoCase(opt, "xx"))
      xx = true;
    else if (EqualsNoCase(opt, "gt"))
      gt = true;
    else if (EqualsNoCase(opt, "lt"))
      lt = true;
    else
      return ctx.reply.Error("ERR Unsupported option " + std::string(opt));
  }
  if (nx && (xx || gt || lt)) {
    return ctx.reply.Error("ERR NX and XX, GT or LT options at the same time are not compatible");
  }
  if (gt && lt) {
    return ctx.reply.Error("ERR GT and LT options at the same time are not compatible");
  }
  int64_t when;
  if (!ParseIntegerArg(ctx, ctx.arg(2), &when)) return;
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  if (unit == ExpireUnit::kSeconds) {
    if (when > kMax / 1000 || when < kMin / 1000) return ReplyInvalidExpireTime(ctx);
    when *= 1000;
  }
  int64_t base = relative ? ctx.keyspace().NowMs() : 0;
  if (when > kMax - base) return ReplyInvalidExpireTime(ctx);
  when += base;

  // The keyspace checks every option under the key's lock (XX with GT or LT
  // included).
  const ExpireCondition condition{.nx = nx, .xx = xx, .gt = gt, .lt = lt};
  bool applied = false;
  storage::Status status = ctx.keyspace().ExpireAt(ctx.arg(1), when, condition, &applied);
  if (!status.ok()) return ReplyStorageError(ctx, status);
  ctx.reply.Integer(applied ? 1 : 0);
}

// Redis parses SCAN cursors with strtoul: leading space or trailing garbage
// is an error, anything else (even "-1") is a number.
bool ParseCursor(std::string_view text, uint64_t* cursor) {
  std::string buf(text);
  if (buf.empty()) {  // strtoul("") is 0 with nothing left over.
    *cursor = 0;
    return true;
  }
  if (std::isspace(static_cast<unsigned char>(buf[0]))) return false;
  errno = 0;
  char* end = nullptr;
  *cursor = std::strtoull(buf.c_str(), &end, 10);
  return *end == '\0' && errno != ERANGE;
}

}  // namespace

void Del(CommandContext& ctx) {
  int64_t deleted = 0;
  auto status = ctx.keyspace().Del(ArgsFrom(ctx, 1), &deleted);
  if (!status.ok()) return ReplyStorageError(ctx, status);
  ctx.reply.Integer(deleted);
}

void Exists(CommandContext& ctx) { ctx.reply.Integer(ctx.keyspace().Exists(ArgsFrom(ctx, 1))); }

void Type(CommandContext& ctx) {
  switch (ctx.keyspace().Type(ctx.arg(1))) {
    case storage::KeyType::kString:
      return ctx.reply.Simple("string");
    case storage::KeyType::kNone:
      return ctx.reply.Simple("none");
  }
}

void Keys(CommandContext& ctx) {
  std::vector<std::string> keys;
  auto status = ctx.keyspace().Keys(ctx.arg(1), &keys);
  if (!status.ok()) return ReplyStorageError(ctx, status);
  ctx.reply.ArrayHeader(keys.size());
  for (const auto& key : keys) ctx.reply.Bulk(key);
}

// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
void Scan(CommandContext& ctx) {
  uint64_t cursor = 0;
  if (!ParseCursor(ctx.arg(1), &cursor)) return ctx.reply.Error("ERR invalid cursor");
  std::string_view pattern = "*";
  int64_t count = 10;
  std::optional<storage::KeyType> type;
  for (size_t i = 2; i < ctx.argc();) {
    size_t remaining = ctx.argc() - i;
    std::string_view opt = ctx.arg(i);
    if (EqualsNoCase(opt, "count") && remaining >= 2) {
      if (!ParseIntegerArg(ctx, ctx.arg(i + 1), &count)) return;
      if (count < 1) return ctx.reply.Error(kErrSyntax);
      i += 2;
    } else if (EqualsNoCase(opt, "match") && remaining >= 2) {
      pattern = ctx.arg(i + 1);  // "" matches only the empty key, as in Redis
      i += 2;
    } else if (EqualsNoCase(opt, "type") && remaining >= 2) {
      // Like Redis 7.0, an unknown type name simply matches nothing.
      type = EqualsNoCase(ctx.arg(i + 1), "string") ? storage::KeyType::kString
                                                    : storage::KeyType::kNone;
      i += 2;
    } else {
      return ctx.reply.Error(kErrSyntax);
    }
  }
  storage::ScanResult result;
  auto status = ctx.keyspace().Scan(cursor, pattern, count, type, &result);
  if (!status.ok()) return ReplyStorageError(ctx, status);
  ctx.reply.ArrayHeader(2);
  ctx.reply.Bulk(std::to_string(result.next_cursor));
  ctx.reply.ArrayHeader(result.keys.size());
  for (const auto& key : result.keys) ctx.reply.Bulk(key);
}

void DbSize(CommandContext& ctx) { ctx.reply.Integer(static_cast<int64_t>(ctx.keyspace().Size())); }

// FLUSHDB / FLUSHALL [ASYNC | SYNC]: with one database they are the same.
void FlushDb(CommandContext& ctx) {
  if (ctx.argc() > 2 || (ctx.argc() == 2 && !EqualsNoCase(ctx.arg(1), "async") &&
                         !EqualsNoCase(ctx.arg(1), "sync"))) {
    return ctx.reply.Error(kErrSyntax);
  }
  auto status = ctx.keyspace().Flush();
  if (!status.ok()) return ReplyStorageError(ctx, status);
  ctx.reply.Ok();
}

void Expire(CommandContext& ctx) { ExpireGeneric(ctx, true, ExpireUnit::kSeconds); }
void PExpire(CommandContext& ctx) { ExpireGeneric(ctx, true, ExpireUnit::kMilliseconds); }
void ExpireAt(CommandContext& ctx) { ExpireGeneric(ctx, false, ExpireUnit::kSeconds); }
void PExpireAt(CommandContext& ctx) { ExpireGeneric(ctx, false, ExpireUnit::kMilliseconds); }

void Ttl(CommandContext& ctx) {
  int64_t ttl = ctx.keyspace().TtlMs(ctx.arg(1));
  // Redis rounds the remaining milliseconds to the nearest second.
  ctx.reply.Integer(ttl < 0 ? ttl : (ttl + 500) / 1000);
}

void PTtl(CommandContext& ctx) { ctx.reply.Integer(ctx.keyspace().TtlMs(ctx.arg(1))); }

void ExpireTime(CommandContext& ctx) {
  int64_t at = ctx.keyspace().ExpireAtMs(ctx.arg(1));
  // Rounded to the nearest second, as TTL is.
  ctx.reply.Integer(at < 0 ? at : (at + 500) / 1000);
}

void PExpireTime(CommandContext& ctx) { ctx.reply.Integer(ctx.keyspace().ExpireAtMs(ctx.arg(1))); }

// TOUCH only counts the keys that exist (a key named twice counts twice):
// Tally keeps no access times for it to update.
void Touch(CommandContext& ctx) { ctx.reply.Integer(ctx.keyspace().Exists(ArgsFrom(ctx, 1))); }

void Persist(CommandContext& ctx) {
  bool applied = false;
  auto status = ctx.keyspace().Persist(ctx.arg(1), &applied);
  if (!status.ok()) return ReplyStorageError(ctx, status);
  ctx.reply.Integer(applied ? 1 : 0);
}

}  // namespace tally::server::commands
