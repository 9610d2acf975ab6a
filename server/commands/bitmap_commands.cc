// SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO: Redis 7.0's
// bitmap commands on string values (storage/bitops.h does the bit work).
// Argument checks come in Redis's order, which for BITCOUNT and BITPOS is
// after the key lookup: a missing key answers 0 / -1 whatever follows.
#include <optional>
#include <string>

#include "server/commands/commands.h"
#include "server/commands/common.h"
#include "storage/bitops.h"
#include "storage/numbers.h"

namespace tally::server::commands {
namespace {

namespace bits = storage::bits;
using storage::StringUpdate;

constexpr std::string_view kErrBitOffset = "ERR bit offset is not an integer or out of range";
constexpr std::string_view kErrBitValue = "ERR bit is not an integer or out of range";
constexpr std::string_view kErrFieldType =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 "
    "is.";

// GET's view of a key for the read-only commands: nullopt when missing,
// false (after replying) on a storage error.
bool ReadValue(CommandContext& ctx, std::string_view key, std::optional<std::string>* value) {
  std::string text;
  auto status = ctx.keyspace().Get(key, &text);
  if (status.code() == storage::Code::kNotFound) {
    value->reset();
    return true;
  }
  if (!status.ok()) {
    ReplyStorageError(ctx, status);
    return false;
  }
  *value = std::move(text);
  return true;
}

// BYTE or BIT (any case); replies a syntax error otherwise.
bool ParseUnit(CommandContext& ctx, std::string_view text, bool* bit_unit) {
  if (EqualsNoCase(text, "bit")) {
    *bit_unit = true;
  } else if (EqualsNoCase(text, "byte")) {
    *bit_unit = false;
  } else {
    ctx.reply.Error(kErrSyntax);
    return false;
  }
  return true;
}

// Parses BITFIELD's subcommands (Redis's bitfieldGeneric): false after
// replying on the first bad one.
bool ParseFieldOps(CommandContext& ctx, std::vector<bits::FieldOp>* ops) {
  const int64_t max_bulk = ProtoMaxBulkLen(ctx);
  bits::Overflow overflow = bits::Overflow::kWrap;
  for (size_t j = 2; j < ctx.argc(); ++j) {
    const size_t remaining = ctx.argc() - j - 1;
    std::string_view sub = ctx.arg(j);
    bits::FieldOp op;
    if (EqualsNoCase(sub, "get") && remaining >= 2) {
      op.kind = bits::FieldOp::kGet;
    } else if (EqualsNoCase(sub, "set") && remaining >= 3) {
      op.kind = bits::FieldOp::kSet;
    } else if (EqualsNoCase(sub, "incrby") && remaining >= 3) {
      op.kind = bits::FieldOp::kIncrBy;
    } else if (EqualsNoCase(sub, "overflow") && remaining >= 1) {
      std::string_view type = ctx.arg(++j);
      if (EqualsNoCase(type, "wrap")) {
        overflow = bits::Overflow::kWrap;
      } else if (EqualsNoCase(type, "sat")) {
        overflow = bits::Overflow::kSat;
      } else if (EqualsNoCase(type, "fail")) {
        overflow = bits::Overflow::kFail;
      } else {
        ctx.reply.Error("ERR Invalid OVERFLOW type specified");
        return false;
      }
      continue;
    } else {
      ctx.reply.Error(kErrSyntax);
      return false;
    }
    auto type = bits::ParseFieldType(ctx.arg(j + 1));
    if (!type) {
      ctx.reply.Error(kErrFieldType);
      return false;
    }
    auto offset = bits::ParseOffset(ctx.arg(j + 2), type->bits, max_bulk);
    if (!offset) {
      ctx.reply.Error(kErrBitOffset);
      return false;
    }
    if (op.kind != bits::FieldOp::kGet && !ParseIntegerArg(ctx, ctx.arg(j + 3), &op.value)) {
      return false;
    }
    op.type = *type;
    op.offset = *offset;
    op.overflow = overflow;
    ops->push_back(op);
    j += op.kind == bits::FieldOp::kGet ? 2 : 3;
  }
  return true;
}

void ReplyFieldResults(CommandContext& ctx, const std::vector<std::optional<int64_t>>& results) {
  ctx.reply.ArrayHeader(results.size());
  for (const auto& r : results) {
    if (r) {
      ctx.reply.Integer(*r);
    } else {
      ctx.reply.Null();
    }
  }
}

void BitFieldGeneric(CommandContext& ctx, bool read_only) {
  std::vector<bits::FieldOp> ops;
  if (!ParseFieldOps(ctx, &ops)) return;
  if (!bits::HasWrite(ops)) {
    std::optional<std::string> value;
    if (!ReadValue(ctx, ctx.arg(1), &value)) return;
    std::string text = value.value_or(std::string());
    return ReplyFieldResults(ctx, bits::RunBitfield(&text, ops));
  }
  if (read_only) return ctx.reply.Error("ERR BITFIELD_RO only supports the GET subcommand");
  std::vector<std::optional<int64_t>> results;
  auto status = ctx.keyspace().UpdateString({ctx.arg(1)}, [&](const auto& values, const auto&) {
    StringUpdate update;
    update.value = values[0].value_or(std::string());
    const size_t before = update.value.size();
    bool changed = false;
    results = bits::RunBitfield(&update.value, ops, &changed);
    // Redis writes only when a field changed, a new key was created or the
    // string grew (it then keeps the growth without signalling WATCH, which
    // Tally cannot separate from the write).
    if (changed || !values[0] || update.value.size() != before) {
      update.action = StringUpdate::Action::kStore;
    }
    return update;
  });
  if (!status.ok()) return ReplyStorageError(ctx, status);
  ReplyFieldResults(ctx, results);
}

}  // namespace

void SetBit(CommandContext& ctx) {
  auto offset = bits::ParseOffset(ctx.arg(2), 0, ProtoMaxBulkLen(ctx));
  if (!offset) return ctx.reply.Error(kErrBitOffset);
  auto on = ParseInt64(ctx.arg(3));
  if (!on || (*on & ~int64_t{1}) != 0) return ctx.reply.Error(kErrBitValue);
  int old = 0;
  auto status = ctx.keyspace().UpdateString({ctx.arg(1)}, [&](const auto& values, const auto&) {
    StringUpdate update;
    update.value = values[0].value_or(std::string());
    const size_t before = update.value.size();
    old = bits::SetBit(&update.value, *offset, static_cast<int>(*on));
    // Redis writes when the key is new, grew, or the bit changed.
    if (!values[0] || update.value.size() != before || old != *on) {
      update.action = StringUpdate::Action::kStore;
    }
    return update;
  });
  if (!status.ok()) return ReplyStorageError(ctx, status);
  ctx.reply.Integer(old);
}

void GetBit(CommandContext& ctx) {
  auto offset = bits::ParseOffset(ctx.arg(2), 0, ProtoMaxBulkLen(ctx));
  if (!offset) return ctx.reply.Error(kErrBitOffset);
  std::optional<std::string> value;
  if (!ReadValue(ctx, ctx.arg(1), &value)) return;
  ctx.reply.Integer(value ? bits::GetBit(*value, *offset) : 0);
}

// BITCOUNT key [start end [BYTE | BIT]]
void BitCount(CommandContext& ctx) {
  std::optional<std::string> value;
  if (!ReadValue(ctx, ctx.arg(1), &value)) return;
  if (!value) return ctx.reply.Integer(0);
  std::optional<bits::Range> range;
  if (ctx.argc() == 4 || ctx.argc() == 5) {
    bits::Range r;
    if (!ParseIntegerArg(ctx, ctx.arg(2), &r.start)) return;
    if (!ParseIntegerArg(ctx, ctx.arg(3), &r.end)) return;
    if (ctx.argc() == 5 && !ParseUnit(ctx, ctx.arg(4), &r.bit_unit)) return;
    range = r;
  } else if (ctx.argc() != 2) {
    return ctx.reply.Error(kErrSyntax);
  }
  ctx.reply.Integer(bits::BitCount(*value, range));
}

// BITPOS key bit [start [end [BYTE | BIT]]]
void BitPos(CommandContext& ctx) {
  int64_t bit = 0;
  if (!ParseIntegerArg(ctx, ctx.arg(2), &bit)) return;
  if (bit != 0 && bit != 1) return ctx.reply.Error("ERR The bit argument must be 1 or 0.");
  std::optional<std::string> value;
  if (!ReadValue(ctx, ctx.arg(1), &value)) return;
  // A missing key is an infinite run of clear bits.
  if (!value) return ctx.reply.Integer(bit ? -1 : 0);
  std::optional<int64_t> start;
  std::optional<int64_t> end;
  bool bit_unit = false;
  if (ctx.argc() >= 4 && ctx.argc() <= 6) {
    int64_t n = 0;
    if (!ParseIntegerArg(ctx, ctx.arg(3), &n)) return;
    start = n;
    if (ctx.argc() == 6 && !ParseUnit(ctx, ctx.arg(5), &bit_unit)) return;
    if (ctx.argc() >= 5) {
      if (!ParseIntegerArg(ctx, ctx.arg(4), &n)) return;
      end = n;
    }
  } else if (ctx.argc() != 3) {
    return ctx.reply.Error(kErrSyntax);
  }
  ctx.reply.Integer(bits::BitPos(*value, static_cast<int>(bit), start, end, bit_unit));
}

// BITOP AND|OR|XOR|NOT destkey key [key ...]
void BitOp(CommandContext& ctx) {
  std::string_view name = ctx.arg(1);
  bits::BitOpKind kind;
  if (EqualsNoCase(name, "and")) {
    kind = bits::BitOpKind::kAnd;
  } else if (EqualsNoCase(name, "or")) {
    kind = bits::BitOpKind::kOr;
  } else if (EqualsNoCase(name, "xor")) {
    kind = bits::BitOpKind::kXor;
  } else if (EqualsNoCase(name, "not")) {
    kind = bits::BitOpKind::kNot;
  } else {
    return ctx.reply.Error(kErrSyntax);
  }
  if (kind == bits::BitOpKind::kNot && ctx.argc() != 4) {
    return ctx.reply.Error("ERR BITOP NOT must be called with a single source key.");
  }
  std::vector<std::string_view> keys = ArgsFrom(ctx, 2);  // destination, then sources
  size_t length = 0;
  auto status = ctx.keyspace().UpdateString(keys, [&](const auto& values, const auto&) {
    std::vector<std::optional<std::string_view>> sources;
    for (size_t i = 1; i < values.size(); ++i) {
      sources.push_back(values[i] ? std::optional<std::string_view>(*values[i]) : std::nullopt);
    }
    StringUpdate update;
    update.value = bits::BitOp(kind, sources);
    length = update.value.size();
    // An empty result deletes the destination; a stored one loses its TTL
    // (Redis's setKey).
    update.action = length ? StringUpdate::Action::kStore : StringUpdate::Action::kDelete;
    update.expire_at_ms = 0;
    return update;
  });
  if (!status.ok()) return ReplyStorageError(ctx, status);
  ctx.reply.Integer(static_cast<int64_t>(length));
}

void BitField(CommandContext& ctx) { BitFieldGeneric(ctx, false); }
void BitFieldRo(CommandContext& ctx) { BitFieldGeneric(ctx, true); }

}  // namespace tally::server::commands
