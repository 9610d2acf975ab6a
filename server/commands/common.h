// Helpers shared by command implementations: argument parsing that replies
// Redis's error on bad input, and the mapping of storage errors to replies.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <vector>

#include "server/command_context.h"
#include "server/text.h"
#include "storage/keyspace.h"

namespace tally::server {

inline constexpr std::string_view kErrNotInteger = "ERR value is not an integer or out of range";
inline constexpr std::string_view kErrSyntax = "ERR syntax error";

// Parses an integer argument by Redis's rules; on failure replies
// "value is not an integer or out of range" and returns false.
bool ParseIntegerArg(CommandContext& ctx, std::string_view text, int64_t* out);

// Replies with Redis's text for a failed storage operation.
void ReplyStorageError(CommandContext& ctx, const storage::Status& status);
// The error reply (without the '-') for a storage failure.
std::string StorageErrorText(const storage::Status& status);

// The live proto-max-bulk-len: the largest string a command may build
// (SETRANGE, APPEND) or address (bit offsets), as in Redis.
int64_t ProtoMaxBulkLen(CommandContext& ctx);

// "ERR invalid expire time in '<command>' command".
void ReplyInvalidExpireTime(CommandContext& ctx);

// The arguments from index `first` to the end, every `step`-th, as views.
std::vector<std::string_view> ArgsFrom(const CommandContext& ctx, size_t first, size_t step = 1);

// Lower-case name of the running command, as Redis prints it in errors.
std::string CommandName(const CommandContext& ctx);

// LASTSAVE's and INFO's rdb_last_save_time: when the last successful
// checkpoint (SAVE/BGSAVE) finished, or the server's start time if none has,
// as in Redis.
int64_t LastSaveUnixSeconds(ServerContext& server);

// A HELP subcommand's reply in Redis's layout: "<COMMAND> <subcommand> ...
// Subcommands are:", then `lines` (each syntax line followed by its indented
// description), then HELP's own entry.
void ReplyHelp(CommandContext& ctx, std::string_view command,
               std::initializer_list<std::string_view> lines);

}  // namespace tally::server
