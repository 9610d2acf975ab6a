// Persistence: SAVE and BGSAVE take an online RocksDB checkpoint of the whole
// keyspace into <dir>/checkpoints/<UTC time> (Keyspace::Checkpoint). A
// checkpoint is a complete data directory: copy it elsewhere for a backup,
// start tally-server --dir on a copy to restore (docs/operations.md).
// LASTSAVE (server_commands.cc) reports when the last one finished.
#include "server/commands/commands.h"
#include "server/commands/common.h"

namespace tally::server::commands {

// SAVE: takes the checkpoint on the calling thread, as Redis's SAVE blocks.
// It costs one memtable flush plus hard links, not a copy of the data.
void Save(CommandContext& ctx) {
  std::string path;
  storage::Status status = ctx.keyspace().Checkpoint(&path);
  if (!status.ok()) return ReplyStorageError(ctx, status);
  ctx.reply.Ok();
}

// BGSAVE [SCHEDULE]: the same on the keyspace's background thread. Redis's
// SCHEDULE only matters while an AOF rewrite runs, which Tally never has, so
// it starts the save at once too.
void BgSave(CommandContext& ctx) {
  if (ctx.argc() > 2 || (ctx.argc() == 2 && !EqualsNoCase(ctx.arg(1), "schedule"))) {
    return ctx.reply.Error(kErrSyntax);
  }
  storage::Status status = ctx.keyspace().StartBackgroundCheckpoint();
  if (!status.ok()) return ReplyStorageError(ctx, status);
  ctx.reply.Simple("Background saving started");
}

}  // namespace tally::server::commands
