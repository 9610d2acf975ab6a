#include "server/commands/common.h"

#include <cctype>
#include <string>

#include "storage/numbers.h"

namespace tally::server {

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

bool ParseIntegerArg(CommandContext& ctx, std::string_view text, int64_t* out) {
  auto value = ParseInt64(text);
  if (!value) {
    ctx.reply.Error(kErrNotInteger);
    return false;
  }
  *out = *value;
  return true;
}

void ReplyStorageError(CommandContext& ctx, const storage::Status& status) {
  using storage::Code;
  switch (status.code()) {
    case Code::kOk:
    case Code::kNotFound:
      ctx.reply.Null();  // not errors; callers normally handle these themselves.
      return;
    case Code::kNotInteger:
      ctx.reply.Error(kErrNotInteger);
      return;
    case Code::kNotFloat:
      ctx.reply.Error("ERR value is not a valid float");
      return;
    case Code::kOverflow:
      ctx.reply.Error("ERR increment or decrement would overflow");
      return;
    case Code::kNanOrInf:
      ctx.reply.Error("ERR increment would produce NaN or Infinity");
      return;
    case Code::kInvalidCursor:
      ctx.reply.Error("ERR invalid cursor");
      return;
    case Code::kIoError:
      ctx.reply.Error("ERR storage error: " + status.message());
      return;
  }
}

void ReplyInvalidExpireTime(CommandContext& ctx) {
  ctx.reply.Error("ERR invalid expire time in '" + CommandName(ctx) + "' command");
}

std::vector<std::string_view> ArgsFrom(const CommandContext& ctx, size_t first, size_t step) {
  std::vector<std::string_view> out;
  out.reserve((ctx.argc() - first + step - 1) / step);
  for (size_t i = first; i < ctx.argc(); i += step) out.push_back(ctx.args[i]);
  return out;
}

std::string CommandName(const CommandContext& ctx) {
  std::string name(ctx.args[0]);
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

}  // namespace tally::server
