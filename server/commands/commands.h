// Every command handler, grouped by the file that implements it. The table in
// server/command_table.cc wires names, arity and flags to these.
#pragma once

#include <string_view>

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
void Append(CommandContext& ctx);
void GetRange(CommandContext& ctx);
void SetRange(CommandContext& ctx);
void GetEx(CommandContext& ctx);
void Lcs(CommandContext& ctx);

// bitmap_commands.cc
void SetBit(CommandContext& ctx);
void GetBit(CommandContext& ctx);
void BitCount(CommandContext& ctx);
void BitPos(CommandContext& ctx);
void BitOp(CommandContext& ctx);
void BitField(CommandContext& ctx);
void BitFieldRo(CommandContext& ctx);

// hyperloglog_commands.cc
void PfAdd(CommandContext& ctx);
void PfCount(CommandContext& ctx);
void PfMerge(CommandContext& ctx);

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
void ExpireTime(CommandContext& ctx);
void PExpireTime(CommandContext& ctx);
void Touch(CommandContext& ctx);
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
// AUTH's check, shared with HELLO ... AUTH: authenticates the client or
// replies WRONGPASS and returns false.
bool Authenticate(CommandContext& ctx, std::string_view user, std::string_view password);
// A new connection's (and RESET's) user, as in Redis: the default user,
// authenticated already when it needs no password and is on.
void SetDefaultUser(ClientState& client, ServerContext& server);

// client_commands.cc: the handshake and per-connection settings.
void Hello(CommandContext& ctx);
void Reset(CommandContext& ctx);
void ClientId(CommandContext& ctx);
void ClientInfo(CommandContext& ctx);
void ClientList(CommandContext& ctx);
void ClientGetName(CommandContext& ctx);
void ClientSetName(CommandContext& ctx);
void ClientSetInfo(CommandContext& ctx);
void ClientKill(CommandContext& ctx);
void ClientReply(CommandContext& ctx);
void ClientNoEvict(CommandContext& ctx);
void ClientNoTouch(CommandContext& ctx);
void ClientHelp(CommandContext& ctx);

// transaction_commands.cc
void Multi(CommandContext& ctx);
void Exec(CommandContext& ctx);
void Discard(CommandContext& ctx);
void Watch(CommandContext& ctx);
void Unwatch(CommandContext& ctx);
// Leaves MULTI state and forgets watched keys (DISCARD, a refused EXEC, RESET).
void DiscardTransaction(ClientState& client);

// introspection_commands.cc: COMMAND, OBJECT, MEMORY.
void Command(CommandContext& ctx);
void CommandCount(CommandContext& ctx);
void CommandList(CommandContext& ctx);
void CommandInfo(CommandContext& ctx);
void CommandDocs(CommandContext& ctx);
void CommandGetKeys(CommandContext& ctx);
void CommandGetKeysAndFlags(CommandContext& ctx);
void CommandHelp(CommandContext& ctx);
void ObjectEncoding(CommandContext& ctx);
void ObjectFreq(CommandContext& ctx);
void ObjectIdleTime(CommandContext& ctx);
void ObjectRefCount(CommandContext& ctx);
void ObjectHelp(CommandContext& ctx);
void MemoryUsage(CommandContext& ctx);
void MemoryHelp(CommandContext& ctx);

// acl_commands.cc
void AclCat(CommandContext& ctx);
void AclList(CommandContext& ctx);
void AclUsers(CommandContext& ctx);
void AclWhoAmI(CommandContext& ctx);
void AclHelp(CommandContext& ctx);

// info_command.cc
void Info(CommandContext& ctx);

// persistence_commands.cc: checkpoints.
void Save(CommandContext& ctx);
void BgSave(CommandContext& ctx);

// slowlog_commands.cc
void SlowLogGet(CommandContext& ctx);
void SlowLogLen(CommandContext& ctx);
void SlowLogReset(CommandContext& ctx);
void SlowLogHelp(CommandContext& ctx);

// server_commands.cc
void Shutdown(CommandContext& ctx);
void ConfigGet(CommandContext& ctx);
void ConfigSet(CommandContext& ctx);
void ConfigResetStat(CommandContext& ctx);
void ConfigHelp(CommandContext& ctx);
void Time(CommandContext& ctx);
void LastSave(CommandContext& ctx);
void Wait(CommandContext& ctx);
void FunctionFlush(CommandContext& ctx);
void FunctionHelp(CommandContext& ctx);
void ScriptFlush(CommandContext& ctx);
void ScriptHelp(CommandContext& ctx);

}  // namespace tally::server::commands
