#include "server/command_table.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <string>
#include <unordered_map>

#include "server/commands/commands.h"
#include "server/text.h"

namespace tally::server {
namespace {

namespace c = commands;

constexpr uint32_t kW = kWrite | kDenyOom;
constexpr uint32_t kR = kReadonly;

// name, arity, flags, first key, last key, step, group, summary, handler,
// since [, arguments [, ACL categories [, key-spec flags [, key-spec notes]]]]. Arity, key
// positions, flags and documentation are Redis 7.0's; subcommands follow their container.
// clang-format off
const std::vector<CommandSpec> kCommands = {
    // Counters.
    {"incr", 2, kW | kFast, 1, 1, 1, "string", "Increment the integer value of a key by one", c::Incr, "1.0.0", "key"},
    {"incrby", 3, kW | kFast, 1, 1, 1, "string", "Increment the integer value of a key by the given amount", c::IncrBy, "1.0.0", "key increment:integer"},
    {"decr", 2, kW | kFast, 1, 1, 1, "string", "Decrement the integer value of a key by one", c::Decr, "1.0.0", "key"},
    {"decrby", 3, kW | kFast, 1, 1, 1, "string", "Decrement the integer value of a key by the given number", c::DecrBy, "1.0.0", "key decrement:integer"},
    {"incrbyfloat", 3, kW | kFast, 1, 1, 1, "string", "Increment the float value of a key by the given amount", c::IncrByFloat, "2.6.0", "key increment:double"},
    // Strings.
    {"get", 2, kR | kFast, 1, 1, 1, "string", "Get the value of a key", c::Get, "1.0.0", "key"},
    {"set", -3, kW, 1, 1, 1, "string", "Set the string value of a key", c::Set, "1.0.0", "key value [condition(NX|XX)] [GET] [expiration(EX=seconds:integer|PX=milliseconds:integer|EXAT=unix-time-seconds:unix-time|PXAT=unix-time-milliseconds:unix-time|KEEPTTL)]", "", "RW access update variable_flags", "RW and ACCESS due to the optional `GET` argument"},
    {"setnx", 3, kW | kFast, 1, 1, 1, "string", "Set the value of a key, only if the key does not exist", c::SetNx, "1.0.0", "key value", "", "OW insert"},
    {"setex", 4, kW, 1, 1, 1, "string", "Set the value and expiration of a key", c::SetEx, "2.0.0", "key seconds:integer value", "", "OW update"},
    {"psetex", 4, kW, 1, 1, 1, "string", "Set the value and expiration in milliseconds of a key", c::PSetEx, "2.6.0", "key milliseconds:integer value", "", "OW update"},
    {"getset", 3, kW | kFast, 1, 1, 1, "string", "Set the string value of a key and return its old value", c::GetSet, "1.0.0", "key value"},
    {"getdel", 2, kWrite | kFast, 1, 1, 1, "string", "Get the value of a key and delete the key", c::GetDel, "6.2.0", "key", "", "RW access delete"},
    {"strlen", 2, kR | kFast, 1, 1, 1, "string", "Get the length of the value stored in a key", c::Strlen, "2.2.0", "key", "", "RO"},
    {"mget", -2, kR | kFast, 1, -1, 1, "string", "Get the values of all the given keys", c::MGet, "1.0.0", "key..."},
    {"mset", -3, kW, 1, -1, 2, "string", "Set multiple keys to multiple values", c::MSet, "1.0.1", "key_value(key value)...", "", "OW update"},
    {"msetnx", -3, kW, 1, -1, 2, "string", "Set multiple keys to multiple values, only if none of the keys exist", c::MSetNx, "1.0.1", "key_value(key value)...", "", "OW insert"},
    {"append", 3, kW | kFast, 1, 1, 1, "string", "Append a value to a key", c::Append, "2.0.0", "key value", "", "RW insert"},
    {"getrange", 4, kR, 1, 1, 1, "string", "Get a substring of the string stored at a key", c::GetRange, "2.4.0", "key start:integer end:integer", "", "RO access"},
    {"substr", 4, kR, 1, 1, 1, "string", "Get a substring of the string stored at a key", c::GetRange, "1.0.0", "key start:integer end:integer", "", "RO access"},
    {"setrange", 4, kW, 1, 1, 1, "string", "Overwrite part of a string at key starting at the specified offset", c::SetRange, "2.2.0", "key offset:integer value", "", "RW update"},
    {"getex", -2, kWrite | kFast, 1, 1, 1, "string", "Get the value of a key and optionally set its expiration", c::GetEx, "6.2.0", "key [expiration(EX=seconds:integer|PX=milliseconds:integer|EXAT=unix-time-seconds:unix-time|PXAT=unix-time-milliseconds:unix-time|PERSIST)]", "", "RW access update", "RW and UPDATE because it changes the TTL"},
    {"lcs", -3, kR, 1, 2, 1, "string", "Find longest common substring", c::Lcs, "7.0.0", "key1:key key2:key [LEN] [IDX] [MINMATCHLEN=len:integer] [WITHMATCHLEN]", "", "RO access"},
    // Bitmaps.
    {"setbit", 4, kW, 1, 1, 1, "bitmap", "Sets or clears the bit at offset in the string value stored at key", c::SetBit, "2.2.0", "key offset:integer value:integer", "", "RW access update"},
    {"getbit", 3, kR | kFast, 1, 1, 1, "bitmap", "Returns the bit value at offset in the string value stored at key", c::GetBit, "2.2.0", "key offset:integer", "", "RO access"},
    {"bitcount", -2, kR, 1, 1, 1, "bitmap", "Count set bits in a string", c::BitCount, "2.6.0", "key [index(start:integer end:integer [index_unit(BYTE|BIT)])]", "", "RO access"},
    {"bitpos", -3, kR, 1, 1, 1, "bitmap", "Find first bit set or clear in a string", c::BitPos, "2.8.7", "key bit:integer [index(start:integer [end_index(end:integer [index_unit(BYTE|BIT)])])]", "", "RO access"},
    {"bitop", -4, kW, 2, -1, 1, "bitmap", "Perform bitwise operations between strings", c::BitOp, "2.6.0", "operation destkey:key key...", "", "OW update"},
    {"bitfield", -2, kW, 1, 1, 1, "bitmap", "Perform arbitrary bitfield integer operations on strings", c::BitField, "3.2.0", "key [operation(GET=encoding_offset(encoding offset:integer)|write(OVERFLOW=wrap_sat_fail(WRAP|SAT|FAIL)|write_operation(SET=encoding_offset_value(encoding offset:integer value:integer)|INCRBY=encoding_offset_increment(encoding offset:integer increment:integer))))...]", "", "RW access update variable_flags", "This command allows both access and modification of the key"},
    {"bitfield_ro", -2, kR | kFast, 1, 1, 1, "bitmap", "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD", c::BitFieldRo, "6.0.0", "key GET=encoding_offset(encoding offset:integer)...", "", "RO access"},
    // HyperLogLog.
    {"pfadd", -2, kW | kFast, 1, 1, 1, "hyperloglog", "Adds the specified elements to the specified HyperLogLog.", c::PfAdd, "2.8.9", "key [element...]", "", "RW insert"},
    {"pfcount", -2, kR, 1, -1, 1, "hyperloglog", "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).", c::PfCount, "2.8.9", "key...", "", "RW access", "RW because it may change the internal representation of the key, and propagate to replicas"},
    {"pfmerge", -2, kW, 1, -1, 1, "hyperloglog", "Merge N different HyperLogLogs into a single one.", c::PfMerge, "2.8.9", "destkey:key [sourcekey:key...]", "", "RW access insert"},
    // Keyspace.
    {"del", -2, kWrite, 1, -1, 1, "generic", "Delete a key", c::Del, "1.0.0", "key...", "", "RM delete"},
    {"unlink", -2, kWrite | kFast, 1, -1, 1, "generic", "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.", c::Del, "4.0.0", "key...", "", "RM delete"},
    {"exists", -2, kR | kFast, 1, -1, 1, "generic", "Determine if a key exists", c::Exists, "1.0.0", "key...", "", "RO"},
    {"type", 2, kR | kFast, 1, 1, 1, "generic", "Determine the type stored at key", c::Type, "1.0.0", "key", "", "RO"},
    {"keys", 2, kR, 0, 0, 0, "generic", "Find all keys matching the given pattern", c::Keys, "1.0.0", "pattern:pattern", "@keyspace @dangerous"},
    {"scan", -2, kR, 0, 0, 0, "generic", "Incrementally iterate the keys space", c::Scan, "2.8.0", "cursor:integer [MATCH=pattern:pattern] [COUNT=count:integer] [TYPE=type]"},
    {"dbsize", 1, kR | kFast, 0, 0, 0, "server", "Return the number of keys in the selected database", c::DbSize, "1.0.0", "", "@keyspace"},
    {"flushdb", -1, kWrite | kTouchesAllKeys, 0, 0, 0, "server", "Remove all keys from the current database", c::FlushDb, "1.0.0", "[async(ASYNC|SYNC)]", "@keyspace @dangerous"},
    {"flushall", -1, kWrite | kTouchesAllKeys, 0, 0, 0, "server", "Remove all keys from all databases", c::FlushDb, "1.0.0", "[async(ASYNC|SYNC)]", "@keyspace @dangerous"},
    {"expire", -3, kWrite | kFast, 1, 1, 1, "generic", "Set a key's time to live in seconds", c::Expire, "1.0.0", "key seconds:integer [condition(NX|XX|GT|LT)]", "", "RW update"},
    {"pexpire", -3, kWrite | kFast, 1, 1, 1, "generic", "Set a key's time to live in milliseconds", c::PExpire, "2.6.0", "key milliseconds:integer [condition(NX|XX|GT|LT)]", "", "RW update"},
    {"expireat", -3, kWrite | kFast, 1, 1, 1, "generic", "Set the expiration for a key as a UNIX timestamp", c::ExpireAt, "1.2.0", "key unix-time-seconds:unix-time [condition(NX|XX|GT|LT)]", "", "RW update"},
    {"pexpireat", -3, kWrite | kFast, 1, 1, 1, "generic", "Set the expiration for a key as a UNIX timestamp specified in milliseconds", c::PExpireAt, "2.6.0", "key unix-time-milliseconds:unix-time [condition(NX|XX|GT|LT)]", "", "RW update"},
    {"ttl", 2, kR | kFast, 1, 1, 1, "generic", "Get the time to live for a key in seconds", c::Ttl, "1.0.0", "key"},
    {"pttl", 2, kR | kFast, 1, 1, 1, "generic", "Get the time to live for a key in milliseconds", c::PTtl, "2.6.0", "key"},
    {"expiretime", 2, kR | kFast, 1, 1, 1, "generic", "Get the expiration Unix timestamp for a key", c::ExpireTime, "7.0.0", "key", "", "RO access"},
    {"pexpiretime", 2, kR | kFast, 1, 1, 1, "generic", "Get the expiration Unix timestamp for a key in milliseconds", c::PExpireTime, "7.0.0", "key", "", "RO access"},
    {"touch", -2, kR | kFast, 1, -1, 1, "generic", "Alters the last access time of a key(s). Returns the number of existing keys specified.", c::Touch, "3.2.1", "key...", "", "RO"},
    {"persist", 2, kWrite | kFast, 1, 1, 1, "generic", "Remove the expiration from a key", c::Persist, "2.2.0", "key", "", "RW update"},
    {"object", -2, 0, 0, 0, 0, "generic", "A container for object introspection commands", nullptr, "2.2.3", "", "@slow"},
    {"object|encoding", 3, kR, 2, 2, 1, "generic", "Inspect the internal encoding of a Redis object", c::ObjectEncoding, "2.2.3", "key", "", "RO"},
    {"object|freq", 3, kR, 2, 2, 1, "generic", "Get the logarithmic access frequency counter of a Redis object", c::ObjectFreq, "4.0.0", "key", "", "RO"},
    {"object|idletime", 3, kR, 2, 2, 1, "generic", "Get the time since a Redis object was last accessed", c::ObjectIdleTime, "2.2.3", "key", "", "RO"},
    {"object|refcount", 3, kR, 2, 2, 1, "generic", "Get the number of references to the value of the key", c::ObjectRefCount, "2.2.3", "key", "", "RO"},
    {"object|help", 2, kLoading | kStale, 0, 0, 0, "generic", "Show helpful text about the different subcommands", c::ObjectHelp, "6.2.0"},
    {"wait", 3, kNoScript, 0, 0, 0, "generic", "Wait for the synchronous replication of all the write commands sent in the context of the current connection", c::Wait, "3.0.0", "numreplicas:integer timeout:integer", "@connection"},
    // Transactions.
    {"multi", 1, kNoScript | kLoading | kStale | kFast | kAllowBusy | kNotQueued, 0, 0, 0, "transactions", "Mark the start of a transaction block", c::Multi, "1.2.0"},
    {"exec", 1, kNoScript | kLoading | kStale | kSkipSlowlog | kNotQueued, 0, 0, 0, "transactions", "Execute all commands issued after MULTI", c::Exec, "1.2.0"},
    {"discard", 1, kNoScript | kLoading | kStale | kFast | kAllowBusy | kNotQueued, 0, 0, 0, "transactions", "Discard all commands issued after MULTI", c::Discard, "2.0.0"},
    {"watch", -2, kNoScript | kLoading | kStale | kFast | kAllowBusy | kNotQueued, 1, -1, 1, "transactions", "Watch the given keys to determine execution of the MULTI/EXEC block", c::Watch, "2.2.0", "key...", "", "RO"},
    {"unwatch", 1, kNoScript | kLoading | kStale | kFast | kAllowBusy, 0, 0, 0, "transactions", "Forget about all watched keys", c::Unwatch, "2.2.0"},
    // Connection.
    {"ping", -1, kFast, 0, 0, 0, "connection", "Ping the server", c::Ping, "1.0.0", "[message]"},
    {"echo", 2, kLoading | kStale | kFast, 0, 0, 0, "connection", "Echo the given string", c::Echo, "1.0.0", "message"},
    {"quit", -1, kNoScript | kLoading | kStale | kFast | kNoAuth | kAllowBusy | kNotQueued, 0, 0, 0, "connection", "Close the connection", c::Quit, "1.0.0"},
    {"select", 2, kLoading | kStale | kFast, 0, 0, 0, "connection", "Change the selected database for the current connection", c::Select, "1.0.0", "index:integer"},
    {"auth", -2, kNoScript | kLoading | kStale | kFast | kNoAuth | kAllowBusy, 0, 0, 0, "connection", "Authenticate to the server", c::Auth, "1.0.0", "[username] password"},
    {"hello", -1, kNoScript | kLoading | kStale | kFast | kNoAuth | kAllowBusy, 0, 0, 0, "connection", "Handshake with Redis", c::Hello, "6.0.0", "[arguments(protover:integer [AUTH=username_password(username password)] [SETNAME=clientname])]"},
    {"reset", 1, kNoScript | kLoading | kStale | kFast | kNoAuth | kAllowBusy | kNotQueued, 0, 0, 0, "connection", "Reset the connection", c::Reset, "6.2.0"},
    {"client", -2, 0, 0, 0, 0, "connection", "A container for client connection commands", nullptr, "2.4.0", "", "@slow"},
    {"client|id", 2, kNoScript | kLoading | kStale, 0, 0, 0, "connection", "Returns the client ID for the current connection", c::ClientId, "5.0.0"},
    {"client|info", 2, kNoScript | kLoading | kStale, 0, 0, 0, "connection", "Returns information about the current client connection.", c::ClientInfo, "6.2.0"},
    {"client|list", -2, kAdmin | kNoScript | kLoading | kStale, 0, 0, 0, "connection", "Get the list of client connections", c::ClientList, "2.4.0", "[TYPE=normal_master_replica_pubsub(NORMAL|MASTER|REPLICA|PUBSUB)] [ID=id(client-id:integer...)]"},
    {"client|getname", 2, kNoScript | kLoading | kStale, 0, 0, 0, "connection", "Get the current connection name", c::ClientGetName, "2.6.9"},
    {"client|setname", 3, kNoScript | kLoading | kStale, 0, 0, 0, "connection", "Set the current connection name", c::ClientSetName, "2.6.9", "connection-name"},
    {"client|setinfo", 4, kNoScript | kLoading | kStale, 0, 0, 0, "connection", "Set client or connection specific info", c::ClientSetInfo, "7.2.0", "attr(LIB-NAME=libname|LIB-VER=libver)"},
    {"client|kill", -3, kAdmin | kNoScript | kLoading | kStale, 0, 0, 0, "connection", "Kill the connection of a client", c::ClientKill, "2.4.0", "filter(ip:port|new-format([ID=client-id:integer]|[TYPE=normal_master_slave_pubsub(NORMAL|MASTER|SLAVE|REPLICA|PUBSUB)]|[USER=username]|[ADDR=ip:port]|[LADDR=ip:port]|[SKIPME=yes/no])...)"},
    {"client|reply", 3, kNoScript | kLoading | kStale, 0, 0, 0, "connection", "Instruct the server whether to reply to commands", c::ClientReply, "3.2.0", "on_off_skip(ON|OFF|SKIP)"},
    {"client|no-evict", 3, kAdmin | kNoScript | kLoading | kStale, 0, 0, 0, "connection", "Set client eviction mode for the current connection", c::ClientNoEvict, "7.0.0", "enabled(ON|OFF)"},
    {"client|no-touch", 3, kNoScript | kLoading | kStale, 0, 0, 0, "connection", "Controls whether commands sent by the client will alter the LRU/LFU of the keys they access.", c::ClientNoTouch, "7.2.0", "enabled(ON|OFF)"},
    {"client|help", 2, kLoading | kStale, 0, 0, 0, "connection", "Show helpful text about the different subcommands", c::ClientHelp, "5.0.0"},
    // Server.
    {"shutdown", -1, kAdmin | kNoScript | kLoading | kStale | kNoMulti | kAllowBusy, 0, 0, 0, "server", "Synchronously save the dataset to disk and then shut down the server", c::Shutdown, "1.0.0", "[nosave_save(NOSAVE|SAVE)] [NOW] [FORCE] [ABORT]"},
    {"config", -2, 0, 0, 0, 0, "server", "A container for server configuration commands", nullptr, "2.0.0", "", "@slow"},
    {"config|get", -3, kAdmin | kNoScript | kLoading | kStale, 0, 0, 0, "server", "Get the values of configuration parameters", c::ConfigGet, "2.0.0", "parameter(parameter)..."},
    {"config|set", -4, kAdmin | kNoScript | kLoading | kStale, 0, 0, 0, "server", "Set configuration parameters to the given values", c::ConfigSet, "2.0.0", "parameter_value(parameter value)..."},
    {"config|resetstat", 2, kAdmin | kNoScript | kLoading | kStale, 0, 0, 0, "server", "Reset the stats returned by INFO", c::ConfigResetStat, "2.0.0"},
    {"config|help", 2, kLoading | kStale, 0, 0, 0, "server", "Show helpful text about the different subcommands", c::ConfigHelp, "5.0.0"},
    {"info", -1, kLoading | kStale, 0, 0, 0, "server", "Get information and statistics about the server", c::Info, "1.0.0", "[section...]", "@dangerous"},
    {"time", 1, kLoading | kStale | kFast, 0, 0, 0, "server", "Return the current server time", c::Time, "2.6.0"},
    {"save", 1, kAdmin | kNoScript | kNoMulti, 0, 0, 0, "server", "Synchronously save the dataset to disk", c::Save, "1.0.0"},
    {"bgsave", -1, kAdmin | kNoScript, 0, 0, 0, "server", "Asynchronously save the dataset to disk", c::BgSave, "1.0.0", "[SCHEDULE]"},
    {"lastsave", 1, kLoading | kStale | kFast, 0, 0, 0, "server", "Get the UNIX time stamp of the last successful save to disk", c::LastSave, "1.0.0", "", "@admin @dangerous"},
    {"command", -1, kLoading | kStale, 0, 0, 0, "server", "Get array of Redis command details", c::Command, "2.8.13", "", "@connection"},
    {"command|count", 2, kLoading | kStale, 0, 0, 0, "server", "Get total number of Redis commands", c::CommandCount, "2.8.13", "", "@connection"},
    {"command|list", -2, kLoading | kStale, 0, 0, 0, "server", "Get an array of Redis command names", c::CommandList, "7.0.0", "[FILTERBY=filterby(MODULE=module-name|ACLCAT=category|PATTERN=pattern:pattern)]", "@connection"},
    {"command|info", -2, kLoading | kStale, 0, 0, 0, "server", "Get array of specific Redis command details, or all when no argument is given.", c::CommandInfo, "2.8.13", "[command-name...]", "@connection"},
    {"command|docs", -2, kLoading | kStale, 0, 0, 0, "server", "Get array of specific Redis command documentation", c::CommandDocs, "7.0.0", "[command-name...]", "@connection"},
    {"command|getkeys", -4, kLoading | kStale, 0, 0, 0, "server", "Extract keys given a full Redis command", c::CommandGetKeys, "2.8.13", "", "@connection"},
    {"command|getkeysandflags", -4, kLoading | kStale, 0, 0, 0, "server", "Extract keys and access flags given a full Redis command", c::CommandGetKeysAndFlags, "7.0.0", "", "@connection"},
    {"command|help", 2, kLoading | kStale, 0, 0, 0, "server", "Show helpful text about the different subcommands", c::CommandHelp, "5.0.0", "", "@connection"},
    {"memory", -2, 0, 0, 0, 0, "server", "A container for memory diagnostics commands", nullptr, "4.0.0", "", "@slow"},
    {"memory|usage", -3, kR, 2, 2, 1, "server", "Estimate the memory usage of a key", c::MemoryUsage, "4.0.0", "key [SAMPLES=count:integer]", "", "RO"},
    {"memory|help", 2, kLoading | kStale, 0, 0, 0, "server", "Show helpful text about the different subcommands", c::MemoryHelp, "4.0.0"},
    {"slowlog", -2, 0, 0, 0, 0, "server", "A container for slow log commands", nullptr, "2.2.12", "", "@slow"},
    {"slowlog|get", -2, kAdmin | kLoading | kStale, 0, 0, 0, "server", "Get the slow log's entries", c::SlowLogGet, "2.2.12", "[count:integer]"},
    {"slowlog|len", 2, kAdmin | kLoading | kStale, 0, 0, 0, "server", "Get the slow log's length", c::SlowLogLen, "2.2.12"},
    {"slowlog|reset", 2, kAdmin | kLoading | kStale, 0, 0, 0, "server", "Clear all entries from the slow log", c::SlowLogReset, "2.2.12"},
    {"slowlog|help", 2, kLoading | kStale, 0, 0, 0, "server", "Show helpful text about the different subcommands", c::SlowLogHelp, "6.2.0"},
    {"acl", -2, 0, 0, 0, 0, "server", "A container for Access List Control commands ", nullptr, "6.0.0", "", "@slow"},
    {"acl|cat", -2, kNoScript | kLoading | kStale, 0, 0, 0, "server", "List the ACL categories or the commands inside a category", c::AclCat, "6.0.0", "[categoryname]"},
    {"acl|list", 2, kAdmin | kNoScript | kLoading | kStale, 0, 0, 0, "server", "List the current ACL rules in ACL config file format", c::AclList, "6.0.0"},
    {"acl|users", 2, kAdmin | kNoScript | kLoading | kStale, 0, 0, 0, "server", "List the username of all the configured ACL rules", c::AclUsers, "6.0.0"},
    {"acl|whoami", 2, kNoScript | kLoading | kStale, 0, 0, 0, "server", "Return the name of the user associated to the current connection", c::AclWhoAmI, "6.0.0"},
    {"acl|help", 2, kLoading | kStale, 0, 0, 0, "server", "Show helpful text about the different subcommands", c::AclHelp, "6.0.0"},
    // Scripting: Tally runs no scripts, so there is nothing to flush.
    {"function", -2, 0, 0, 0, 0, "scripting", "A container for function commands", nullptr, "7.0.0", "", "@slow"},
    {"function|flush", -2, kWrite | kNoScript, 0, 0, 0, "scripting", "Deleting all functions", c::FunctionFlush, "7.0.0", "[async(ASYNC|SYNC)]"},
    {"function|help", 2, kLoading | kStale, 0, 0, 0, "scripting", "Show helpful text about the different subcommands", c::FunctionHelp, "7.0.0"},
    {"script", -2, 0, 0, 0, 0, "scripting", "A container for Lua scripts management commands", nullptr, "2.6.0", "", "@slow"},
    {"script|flush", -2, kNoScript, 0, 0, 0, "scripting", "Remove all the scripts from the script cache.", c::ScriptFlush, "2.6.0", "[async(ASYNC|SYNC)]"},
    {"script|help", 2, kLoading | kStale, 0, 0, 0, "scripting", "Show helpful text about the different subcommands", c::ScriptHelp, "5.0.0"},
};
// clang-format on

struct Indexes {
  std::unordered_map<std::string, const CommandSpec*> by_full_name;  // "get", "config|get"
  std::unordered_map<const CommandSpec*, std::vector<const CommandSpec*>> subcommands;
  std::vector<bool> has_subcommands;  // by position in kCommands
};

const Indexes& GetIndexes() {
  static const auto* indexes = [] {
    auto* out = new Indexes();
    for (const auto& spec : kCommands) {
      out->by_full_name.emplace(std::string(spec.name), &spec);
      if (IsContainer(spec)) out->subcommands[&spec];
    }
    for (const auto& spec : kCommands) {
      if (!IsSubcommand(spec)) continue;
      auto parent = out->by_full_name.find(std::string(spec.name.substr(0, spec.name.find('|'))));
      if (parent != out->by_full_name.end()) out->subcommands[parent->second].push_back(&spec);
    }
    out->has_subcommands.resize(kCommands.size());
    for (size_t i = 0; i < kCommands.size(); ++i) {
      auto it = out->subcommands.find(&kCommands[i]);
      out->has_subcommands[i] = it != out->subcommands.end() && !it->second.empty();
    }
    return out;
  }();
  return *indexes;
}

}  // namespace

const std::vector<CommandSpec>& AllCommands() { return kCommands; }

const CommandSpec* FindCommandByFullName(std::string_view name) {
  if (name.size() > 64) return nullptr;  // longer than any command name
  const auto& index = GetIndexes().by_full_name;
  auto it = index.find(ToLower(name));
  return it == index.end() ? nullptr : it->second;
}

const CommandSpec* FindCommand(std::string_view name) {
  if (name.find('|') != std::string_view::npos) return nullptr;
  return FindCommandByFullName(name);
}

const CommandSpec* FindSubcommand(const CommandSpec& container, std::string_view name) {
  if (name.find('|') != std::string_view::npos || name.size() > 64) return nullptr;
  return FindCommandByFullName(std::string(container.name) + "|" + std::string(name));
}

std::vector<size_t> KeyIndexes(const CommandSpec& spec, size_t argc) {
  std::vector<size_t> out;
  if (spec.first_key <= 0 || argc <= static_cast<size_t>(spec.first_key)) return out;
  // A negative last key counts from the end: -1 is the last argument.
  const int64_t last =
      spec.last_key >= 0 ? spec.last_key : static_cast<int64_t>(argc) + spec.last_key;
  const int64_t step = spec.key_step > 0 ? spec.key_step : 1;
  for (int64_t i = spec.first_key; i <= last && i < static_cast<int64_t>(argc); i += step) {
    out.push_back(static_cast<size_t>(i));
  }
  return out;
}

bool HasSubcommands(const CommandSpec& spec) {
  const auto& flags = GetIndexes().has_subcommands;
  std::less<const CommandSpec*> before;
  if (before(&spec, kCommands.data()) || !before(&spec, kCommands.data() + kCommands.size())) {
    return false;  // not a row of the table
  }
  return flags[static_cast<size_t>(&spec - kCommands.data())];
}

const std::vector<const CommandSpec*>& Subcommands(const CommandSpec& container) {
  static const std::vector<const CommandSpec*> kNone;
  const auto& index = GetIndexes().subcommands;
  auto it = index.find(&container);
  return it == index.end() ? kNone : it->second;
}

std::vector<std::string_view> AclCategories(const CommandSpec& spec) {
  std::vector<std::string_view> own;
  if (!spec.acl_categories.empty()) {
    own = Words(spec.acl_categories);
  } else if (IsContainer(spec)) {
    // Containers carry only what their row says.
  } else if (spec.group == "string") {
    own = {"@string"};
  } else if (spec.group == "bitmap") {
    own = {"@bitmap"};
  } else if (spec.group == "hyperloglog") {
    own = {"@hyperloglog"};
  } else if (spec.group == "generic") {
    own = {"@keyspace"};
  } else if (spec.group == "connection") {
    own = {"@connection"};
  } else if (spec.group == "transactions") {
    own = {"@transaction"};
  } else if (spec.group == "scripting") {
    own = {"@scripting"};
  }
  auto has = [&](std::string_view category) {
    return std::find(own.begin(), own.end(), category) != own.end();
  };
  const bool container = IsContainer(spec);
  const bool admin = (spec.flags & kAdmin) || has("@admin");
  static constexpr std::string_view kOrder[] = {
      "@keyspace", "@read", "@write",     "@string",     "@bitmap",      "@hyperloglog", "@admin",
      "@fast",     "@slow", "@dangerous", "@connection", "@transaction", "@scripting"};
  std::vector<std::string_view> out;
  for (auto category : kOrder) {
    bool on = has(category);
    if (!container) {
      if (category == "@read") on = on || (spec.flags & kReadonly);
      if (category == "@write") on = on || (spec.flags & kWrite);
      if (category == "@admin" || category == "@dangerous") on = on || admin;
      if (category == "@fast") on = on || (spec.flags & kFast);
      if (category == "@slow") on = on || !(spec.flags & kFast);
    }
    if (on) out.push_back(category);
  }
  return out;
}

size_t CommandIndex(const CommandSpec& spec) {
  return static_cast<size_t>(&spec - kCommands.data());
}

}  // namespace tally::server
