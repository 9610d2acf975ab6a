// The connection handshake and per-connection settings: HELLO, RESET and the
// CLIENT subcommands that Redis clients send (SETNAME, SETINFO, ID, INFO,
// LIST, KILL, REPLY, NO-EVICT, NO-TOUCH).
#include <algorithm>
#include <optional>

#include "server/commands/commands.h"
#include "server/commands/common.h"
#include "server/redis_version.h"
#include "storage/numbers.h"

namespace tally::server::commands {
namespace {

// Redis's validateClientName / validateClientAttr: printable ASCII without
// spaces, so that CLIENT LIST stays parseable.
bool ValidClientAttribute(std::string_view value) {
  for (char c : value) {
    if (c < '!' || c > '~') return false;
  }
  return true;
}

constexpr std::string_view kErrClientName =
    "ERR Client names cannot contain spaces, newlines or special characters.";

void SetProtocol(CommandContext& ctx, int protocol) {
  ctx.reply.set_protocol(protocol);
  ctx.client.record->resp.store(protocol, std::memory_order_relaxed);
}

// Parses ON|OFF (any case); replies a syntax error otherwise.
bool ParseOnOff(CommandContext& ctx, std::string_view text, bool* on) {
  if (EqualsNoCase(text, "on")) {
    *on = true;
  } else if (EqualsNoCase(text, "off")) {
    *on = false;
  } else {
    ctx.reply.Error(kErrSyntax);
    return false;
  }
  return true;
}

}  // namespace

// HELLO [protover [AUTH username password] [SETNAME clientname]]
// The options are all checked before any takes effect (Redis 7.2's order;
// 7.0 could apply AUTH before failing on a later bad option).
void Hello(CommandContext& ctx) {
  int64_t version = 0;
  size_t next = 1;
  if (ctx.argc() >= 2) {
    auto parsed = ParseInt64(ctx.arg(1));
    if (!parsed) return ctx.reply.Error("ERR Protocol version is not an integer or out of range");
    if (*parsed < 2 || *parsed > 3) return ctx.reply.Error("NOPROTO unsupported protocol version");
    version = *parsed;
    next = 2;
  }
  std::optional<std::string_view> user, password, name;
  for (size_t j = next; j < ctx.argc(); ++j) {
    const size_t more = ctx.argc() - 1 - j;
    std::string_view opt = ctx.arg(j);
    if (EqualsNoCase(opt, "auth") && more >= 2) {
      user = ctx.arg(j + 1);
      password = ctx.arg(j + 2);
      j += 2;
    } else if (EqualsNoCase(opt, "setname") && more >= 1) {
      name = ctx.arg(j + 1);
      if (!ValidClientAttribute(*name)) return ctx.reply.Error(kErrClientName);
      j += 1;
    } else {
      return ctx.reply.Error("ERR Syntax error in HELLO option '" + std::string(opt) + "'");
    }
  }
  if (user && !Authenticate(ctx, *user, *password)) return;
  if (!ctx.client.authenticated) {
    return ctx.reply.Error(
        "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO "
        "AUTH <user> <pass> option can be used to authenticate the client and select the RESP "
        "protocol version at the same time");
  }
  if (name) ctx.client.record->set_name(std::string(*name));
  if (version != 0) SetProtocol(ctx, static_cast<int>(version));

  // `server` says "redis" as Redis does: some clients look for it, and
  // Tally's own name and version are in INFO (tally_version).
  ctx.reply.MapHeader(7);
  ctx.reply.Bulk("server");
  ctx.reply.Bulk("redis");
  ctx.reply.Bulk("version");
  ctx.reply.Bulk(kRedisCompatVersion);
  ctx.reply.Bulk("proto");
  ctx.reply.Integer(ctx.reply.protocol());
  ctx.reply.Bulk("id");
  ctx.reply.Integer(static_cast<int64_t>(ctx.client.id));
  ctx.reply.Bulk("mode");
  ctx.reply.Bulk("standalone");
  ctx.reply.Bulk("role");
  ctx.reply.Bulk("master");
  ctx.reply.Bulk("modules");
  ctx.reply.ArrayHeader(0);
}

// Back to a fresh connection's state: out of MULTI, nothing watched, no name,
// RESP2, replies on, and the default user again (unauthenticated when it
// needs a password).
void Reset(CommandContext& ctx) {
  DiscardTransaction(ctx.client);
  ctx.client.record->set_name("");
  ctx.client.reply_off = false;
  ctx.client.reply_skip_next = false;
  SetProtocol(ctx, 2);
  SetDefaultUser(ctx.client, ctx.server);
  ctx.reply.Simple("RESET");
}

void ClientId(CommandContext& ctx) { ctx.reply.Integer(static_cast<int64_t>(ctx.client.id)); }

void ClientInfo(CommandContext& ctx) {
  ctx.reply.Verbatim("txt", ctx.client.record->Describe(MonotonicMs()));
}

// CLIENT LIST [TYPE NORMAL|MASTER|REPLICA|PUBSUB] | [ID id [id ...]]
void ClientList(CommandContext& ctx) {
  bool none = false;  // every Tally client is a normal one
  std::vector<uint64_t> ids;
  if (ctx.argc() == 4 && EqualsNoCase(ctx.arg(2), "type")) {
    std::string_view type = ctx.arg(3);
    if (EqualsNoCase(type, "master") || EqualsNoCase(type, "replica") ||
        EqualsNoCase(type, "slave") || EqualsNoCase(type, "pubsub")) {
      none = true;
    } else if (!EqualsNoCase(type, "normal")) {
      return ctx.reply.Error("ERR Unknown client type '" + std::string(type) + "'");
    }
  } else if (ctx.argc() >= 4 && EqualsNoCase(ctx.arg(2), "id")) {
    for (size_t i = 3; i < ctx.argc(); ++i) {
      auto id = ParseInt64(ctx.arg(i));
      if (!id) return ctx.reply.Error("ERR Invalid client ID");
      ids.push_back(static_cast<uint64_t>(*id));
    }
  } else if (ctx.argc() != 2) {
    return ctx.reply.Error(kErrSyntax);
  }
  std::string out;
  if (!none) {
    const int64_t now = MonotonicMs();
    for (const auto& record : ctx.server.clients.Snapshot()) {
      if (!ids.empty() && std::find(ids.begin(), ids.end(), record->id) == ids.end()) continue;
      out += record->Describe(now);
    }
  }
  ctx.reply.Verbatim("txt", out);
}

void ClientGetName(CommandContext& ctx) {
  std::string name = ctx.client.record->name();
  if (name.empty()) return ctx.reply.Null();
  ctx.reply.Bulk(name);
}

void ClientSetName(CommandContext& ctx) {
  if (!ValidClientAttribute(ctx.arg(2))) return ctx.reply.Error(kErrClientName);
  ctx.client.record->set_name(std::string(ctx.arg(2)));
  ctx.reply.Ok();
}

// CLIENT SETINFO LIB-NAME|LIB-VER value (Redis 7.2), which node-redis,
// redis-py 5 and go-redis send after connecting.
void ClientSetInfo(CommandContext& ctx) {
  std::string_view attr = ctx.arg(2);
  std::string_view value = ctx.arg(3);
  const bool is_name = EqualsNoCase(attr, "lib-name");
  if (!is_name && !EqualsNoCase(attr, "lib-ver")) {
    return ctx.reply.Error("ERR Unrecognized option '" + std::string(attr) + "'");
  }
  if (!ValidClientAttribute(value)) {
    return ctx.reply.Error("ERR " + std::string(attr) +
                           " cannot contain spaces, newlines or special characters.");
  }
  if (is_name) {
    ctx.client.record->set_lib_name(std::string(value));
  } else {
    ctx.client.record->set_lib_ver(std::string(value));
  }
  ctx.reply.Ok();
}

// CLIENT KILL ip:port (old form: +OK or "No such client", may kill the
// caller) | CLIENT KILL <filter> <value> ... (new form: the number killed).
void ClientKill(CommandContext& ctx) {
  std::optional<uint64_t> id;
  std::optional<std::string_view> addr, laddr, user;
  bool skip_me = true, match_nothing = false;
  const bool old_form = ctx.argc() == 3;
  if (old_form) {
    addr = ctx.arg(2);
    skip_me = false;
  } else {
    for (size_t i = 2; i < ctx.argc(); i += 2) {
      std::string_view opt = ctx.arg(i);
      if (i + 1 >= ctx.argc()) return ctx.reply.Error(kErrSyntax);
      std::string_view value = ctx.arg(i + 1);
      if (EqualsNoCase(opt, "id")) {
        auto parsed = ParseInt64(value);
        if (!parsed || *parsed < 1) {
          return ctx.reply.Error("ERR client-id should be greater than 0");
        }
        id = static_cast<uint64_t>(*parsed);
      } else if (EqualsNoCase(opt, "type")) {
        if (EqualsNoCase(value, "master") || EqualsNoCase(value, "replica") ||
            EqualsNoCase(value, "slave") || EqualsNoCase(value, "pubsub")) {
          match_nothing = true;
        } else if (!EqualsNoCase(value, "normal")) {
          return ctx.reply.Error("ERR Unknown client type '" + std::string(value) + "'");
        }
      } else if (EqualsNoCase(opt, "addr")) {
        addr = value;
      } else if (EqualsNoCase(opt, "laddr")) {
        laddr = value;
      } else if (EqualsNoCase(opt, "user")) {
        if (ctx.server.users.Find(value, "") == nullptr) {
          return ctx.reply.Error("ERR No such user '" + std::string(value) + "'");
        }
        user = value;
      } else if (EqualsNoCase(opt, "skipme")) {
        if (EqualsNoCase(value, "yes")) {
          skip_me = true;
        } else if (EqualsNoCase(value, "no")) {
          skip_me = false;
        } else {
          return ctx.reply.Error(kErrSyntax);
        }
      } else {
        return ctx.reply.Error(kErrSyntax);
      }
    }
  }
  int64_t killed = 0;
  if (!match_nothing) {
    for (const auto& record : ctx.server.clients.Snapshot()) {
      if (id && record->id != *id) continue;
      if (addr && record->addr != *addr) continue;
      if (laddr && record->laddr != *laddr) continue;
      if (user && record->user() != *user) continue;
      const bool me = record->id == ctx.client.id;
      if (me && skip_me) continue;
      // The caller itself closes after this reply, like Redis's
      // CLIENT_CLOSE_AFTER_REPLY; others close as soon as their thread can.
      if (me) {
        ctx.client.close_after_reply = true;
      } else if (record->kill) {
        record->kill();
      }
      ++killed;
    }
  }
  if (old_form) {
    if (killed == 0) return ctx.reply.Error("ERR No such client");
    return ctx.reply.Ok();
  }
  ctx.reply.Integer(killed);
}

// CLIENT REPLY ON|OFF|SKIP. OFF and SKIP send nothing back; the dispatcher
// drops the replies.
void ClientReply(CommandContext& ctx) {
  std::string_view mode = ctx.arg(2);
  if (EqualsNoCase(mode, "on")) {
    ctx.client.reply_off = false;
    ctx.client.reply_skip_next = false;
    return ctx.reply.Ok();
  }
  if (EqualsNoCase(mode, "off")) {
    ctx.client.reply_off = true;
    return;
  }
  if (EqualsNoCase(mode, "skip")) {
    if (!ctx.client.reply_off) ctx.client.reply_skip_next = true;
    return;
  }
  ctx.reply.Error(kErrSyntax);
}

// Tally evicts no clients and no keys, and keeps no access times: these only
// record the setting, which CLIENT LIST shows.
void ClientNoEvict(CommandContext& ctx) {
  bool on;
  if (!ParseOnOff(ctx, ctx.arg(2), &on)) return;
  ctx.client.record->no_evict.store(on, std::memory_order_relaxed);
  ctx.reply.Ok();
}

void ClientNoTouch(CommandContext& ctx) {
  bool on;
  if (!ParseOnOff(ctx, ctx.arg(2), &on)) return;
  ctx.client.record->no_touch.store(on, std::memory_order_relaxed);
  ctx.reply.Ok();
}

void ClientHelp(CommandContext& ctx) {
  ReplyHelp(ctx, "CLIENT",
            {"GETNAME",
             "    Return the name of the current connection.",
             "ID",
             "    Return the ID of the current connection.",
             "INFO",
             "    Return information about the current client connection.",
             "KILL <ip:port>",
             "    Kill connection made from <ip:port>.",
             "KILL <option> <value> [<option> <value> [...]]",
             "    Kill connections. Options are:",
             "    * ADDR (<ip:port>|<unixsocket>:0)",
             "      Kill connections made from the specified address",
             "    * LADDR (<ip:port>|<unixsocket>:0)",
             "      Kill connections made to specified local address",
             "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
             "      Kill connections by type.",
             "    * USER <username>",
             "      Kill connections authenticated by <username>.",
             "    * SKIPME (YES|NO)",
             "      Skip killing current connection (default: yes).",
             "LIST [options ...]",
             "    Return information about client connections. Options:",
             "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
             "      Return clients of specified type.",
             "REPLY (ON|OFF|SKIP)",
             "    Control the replies sent to the current connection.",
             "SETNAME <name>",
             "    Assign the name <name> to the current connection.",
             "SETINFO <option> <value>",
             "    Set client meta attr. Options are:",
             "    * LIB-NAME: the client lib name.",
             "    * LIB-VER: the client lib version.",
             "NO-EVICT (ON|OFF)",
             "    Protect current client connection from eviction.",
             "NO-TOUCH (ON|OFF)",
             "    Will not touch LRU/LFU stats when this mode is on."});
}

}  // namespace tally::server::commands
