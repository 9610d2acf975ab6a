// Every command handler, grouped by the file that implements it. The table in
// server/command_table.cc wires names, arity and flags to these.
#pragma once

#include "server/command_context.h"

namespace tally::server::commands {

// counter_commands.cc
void Incr(CommandContext& ctx);
void IncrBy(CommandContext& ctx);
void Decr(CommandContext& ctx);
void DecrBy(CommandContext& ctx);
void IncrByFloat(CommandContext& ctx);

// string_commands.cc
void Get(CommandContext& ctx);
void Set(CommandContext& ctx);
void SetNx(CommandContext& ctx);
void SetEx(CommandContext& ctx);
void PSetEx(CommandContext& ctx);
void GetSet(CommandContext& ctx);
void GetDel(CommandContext& ctx);
void Strlen(CommandContext& ctx);
void MGet(CommandContext& ctx);
void MSet(CommandContext& ctx);
void MSetNx(CommandContext& ctx);

// keyspace_commands.cc
void Del(CommandContext& ctx);
void Exists(CommandContext& ctx);
void Type(CommandContext& ctx);
void Keys(CommandContext& ctx);
void Scan(CommandContext& ctx);
void DbSize(CommandContext& ctx);
void FlushDb(CommandContext& ctx);
void Expire(CommandContext& ctx);
void PExpire(CommandContext& ctx);
void ExpireAt(CommandContext& ctx);
void PExpireAt(CommandContext& ctx);
void Ttl(CommandContext& ctx);
void PTtl(CommandContext& ctx);
void Persist(CommandContext& ctx);

// connection_commands.cc
void Ping(CommandContext& ctx);
void Echo(CommandContext& ctx);
void Quit(CommandContext& ctx);
void Select(CommandContext& ctx);
void Auth(CommandContext& ctx);

// server_commands.cc
void Shutdown(CommandContext& ctx);
void Config(CommandContext& ctx);

}  // namespace tally::server::commands
