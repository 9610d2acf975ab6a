// MULTI, EXEC, DISCARD, WATCH, UNWATCH with Redis's semantics. The
// dispatcher queues commands between MULTI and EXEC (and dooms the
// transaction when it refuses one); EXEC runs the queue atomically.
#include "server/commands/commands.h"
#include "server/commands/common.h"
#include "server/dispatcher.h"

namespace tally::server::commands {
namespace {

// The keys a transaction must lock: every key of every queued command (reads
// too, so nothing changes under the transaction between two of its reads)
// plus the watched keys, whose check must see no write in between. A queued
// command that works on the whole keyspace (FLUSHDB, KEYS, SCAN, DBSIZE)
// locks every key.
std::vector<std::string_view> TransactionKeys(const CommandContext& ctx,
                                              const std::vector<QueuedCommand>& queued,
                                              bool* all_keys) {
  std::vector<std::string_view> keys = ctx.client.watcher.keys();
  *all_keys = false;
  for (const auto& command : queued) {
    const CommandSpec& spec = *command.spec;
    if (!(spec.flags & (kWrite | kReadonly))) continue;
    if (spec.first_key == 0 || (spec.flags & kTouchesAllKeys)) *all_keys = true;
    for (size_t i : KeyIndexes(spec, command.args.size())) keys.push_back(command.args[i]);
  }
  return keys;
}

// Runs the queued commands as one unit and replies with the array of their
// replies, or with a null array when a watched key changed. The keyspace
// locks the transaction's keys, checks nothing else writes them, and commits
// all its writes as one batch: other clients, and recovery after a crash,
// see all of the transaction or none of it. The WATCH check runs inside,
// after the locks are taken, so no write can slip between check and commit.
void ExecuteAtomically(CommandContext& ctx, std::vector<QueuedCommand>& queued) {
  // In flight for WATCH, like any command that touches keys.
  InFlightCommands::Scope in_flight(ctx.server.in_flight, ctx.keyspace());
  bool all_keys = false;
  const auto keys = TransactionKeys(ctx, queued, &all_keys);
  // Replies go to a buffer first: if the commit fails, none of them is true.
  std::string replies;
  protocol::ReplyWriter writer(&replies, ctx.reply.protocol());
  bool watch_failed = false;
  auto status = ctx.keyspace().Atomically(keys, all_keys, [&] {
    watch_failed = ctx.client.watcher.Dirty(ctx.keyspace().NowMs());
    if (watch_failed) return;
    writer.ArrayHeader(queued.size());
    for (auto& command : queued) {
      // An AUTH earlier in the queue may have changed the user since this
      // command was accepted; Redis checks again here.
      if (ctx.client.user != nullptr) {
        const auto denial = acl::Check(*ctx.client.user, *command.spec, command.args.size());
        if (denial != acl::Denial::kNone) {
          writer.Error(acl::ChangedSinceQueuedError(denial));
          continue;
        }
      }
      CommandContext inner{command.args, writer, ctx.client, ctx.server};
      RunCommand(*command.spec, inner);
    }
  });
  // Only now: `keys` points into the watched keys. (Redis unwatches before
  // running the queue; the transaction dirtying its own watch changes
  // nothing, as the check is done.)
  ctx.client.watcher.UnwatchAll();
  if (!status.ok()) return ReplyStorageError(ctx, status);
  if (watch_failed) return ctx.reply.NullArray();
  // HELLO inside the transaction switched the protocol for what follows.
  ctx.reply.set_protocol(writer.protocol());
  ctx.reply.buffer()->append(replies);
}

}  // namespace

void DiscardTransaction(ClientState& client) {
  client.transaction = TransactionState();
  client.record->multi_queued.store(-1, std::memory_order_relaxed);
  client.watcher.UnwatchAll();
}

void Multi(CommandContext& ctx) {
  if (ctx.client.transaction.active) return ctx.reply.Error("ERR MULTI calls can not be nested");
  ctx.client.transaction.active = true;
  ctx.client.record->multi_queued.store(0, std::memory_order_relaxed);
  ctx.reply.Ok();
}

void Exec(CommandContext& ctx) {
  if (!ctx.client.transaction.active) return ctx.reply.Error("ERR EXEC without MULTI");
  if (ctx.client.transaction.failed) {
    DiscardTransaction(ctx.client);
    return ctx.reply.Error("EXECABORT Transaction discarded because of previous errors.");
  }
  std::vector<QueuedCommand> queued = std::move(ctx.client.transaction.queued);
  ctx.client.transaction = TransactionState();
  ctx.client.record->multi_queued.store(-1, std::memory_order_relaxed);
  ExecuteAtomically(ctx, queued);
}

void Discard(CommandContext& ctx) {
  if (!ctx.client.transaction.active) return ctx.reply.Error("ERR DISCARD without MULTI");
  DiscardTransaction(ctx.client);
  ctx.reply.Ok();
}

void Watch(CommandContext& ctx) {
  if (ctx.client.transaction.active) {
    return ctx.reply.Error("ERR WATCH inside MULTI is not allowed");
  }
  // This thread's pending writes (this client's own, pipelined before the
  // WATCH, among them) commit before the keys are registered: they happened
  // before the WATCH, so they must not dirty it. The commit also frees the
  // stripes that the commands waited for below may need.
  ctx.keyspace().CommitGroup();
  std::vector<std::string_view> added;
  for (size_t i = 1; i < ctx.argc(); ++i) {
    if (ctx.client.watcher.Watch(ctx.server.watches, ctx.arg(i))) added.push_back(ctx.arg(i));
  }
  // A write that began on another thread before the keys were registered
  // may not have reported them; wait for it, so the value this client reads
  // next already includes it. (A write pending in another thread's group
  // reports them when that group commits.)
  ctx.server.in_flight.WaitForAll();
  // Only now note each key's expiry, for the expired-while-watched rule.
  for (auto key : added) ctx.client.watcher.SetExpireAt(key, ctx.keyspace().ExpireAtMs(key));
  ctx.reply.Ok();
}

void Unwatch(CommandContext& ctx) {
  ctx.client.watcher.UnwatchAll();
  ctx.reply.Ok();
}

}  // namespace tally::server::commands
