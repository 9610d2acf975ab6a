// INCR, INCRBY, DECR, DECRBY, INCRBYFLOAT: parse the arguments, let the
// keyspace do the atomic read-modify-write, reply.
#include <limits>

#include "server/commands/commands.h"
#include "server/commands/common.h"
#include "storage/numbers.h"

namespace tally::server::commands {
namespace {

void IncrementBy(CommandContext& ctx, int64_t delta) {
  int64_t result = 0;
  auto status = ctx.keyspace().IncrBy(ctx.arg(1), delta, &result);
  if (!status.ok()) return ReplyStorageError(ctx, status);
  ctx.reply.Integer(result);
}

}  // namespace

void Incr(CommandContext& ctx) { IncrementBy(ctx, 1); }

void Decr(CommandContext& ctx) { IncrementBy(ctx, -1); }

void IncrBy(CommandContext& ctx) {
  int64_t delta;
  if (!ParseIntegerArg(ctx, ctx.arg(2), &delta)) return;
  IncrementBy(ctx, delta);
}

void DecrBy(CommandContext& ctx) {
  int64_t delta;
  if (!ParseIntegerArg(ctx, ctx.arg(2), &delta)) return;
  // Negating INT64_MIN overflows, so Redis refuses it before touching the key.
  if (delta == std::numeric_limits<int64_t>::min()) {
    return ctx.reply.Error("ERR decrement would overflow");
  }
  IncrementBy(ctx, -delta);
}

void IncrByFloat(CommandContext& ctx) {
  auto delta = ParseLongDouble(ctx.arg(2));
  if (!delta) return ctx.reply.Error("ERR value is not a valid float");
  std::string result;
  auto status = ctx.keyspace().IncrByFloat(ctx.arg(1), *delta, &result);
  if (!status.ok()) return ReplyStorageError(ctx, status);
  // Redis replies with a bulk string here, in RESP3 too.
  ctx.reply.Bulk(result);
}

}  // namespace tally::server::commands
