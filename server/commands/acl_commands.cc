// ACL introspection: who am I, which users exist, what the categories hold.
// Users are fixed at start-up (`user` settings or the ACL file), so the
// subcommands that change them (SETUSER, DELUSER, LOAD, SAVE) do not exist.
#include <algorithm>

#include "server/acl.h"
#include "server/command_table.h"
#include "server/commands/commands.h"
#include "server/commands/common.h"

namespace tally::server::commands {

// ACL CAT [category]: the categories, or the commands (subcommands as
// "config|get") in one of them.
void AclCat(CommandContext& ctx) {
  if (ctx.argc() > 3) {
    return ctx.reply.Error(
        "ERR unknown subcommand or wrong number of arguments for 'CAT'. Try ACL HELP.");
  }
  const auto& categories = acl::AllCategories();
  if (ctx.argc() == 2) {
    ctx.reply.ArrayHeader(categories.size());
    for (auto category : categories) ctx.reply.Bulk(category);
    return;
  }
  const std::string wanted = ToLower(ctx.arg(2));
  if (std::find(categories.begin(), categories.end(), wanted) == categories.end()) {
    return ctx.reply.Error("ERR Unknown category '" + std::string(ctx.arg(2)) + "'");
  }
  std::vector<std::string_view> names;
  for (const auto& spec : AllCommands()) {
    const auto own = AclCategories(spec);
    if (std::find(own.begin(), own.end(), "@" + wanted) != own.end()) names.push_back(spec.name);
  }
  ctx.reply.ArrayHeader(names.size());
  for (auto name : names) ctx.reply.Bulk(name);
}

void AclList(CommandContext& ctx) {
  const auto users = ctx.server.users.All(ctx.server.config.Snapshot().requirepass);
  ctx.reply.ArrayHeader(users.size());
  for (const auto& user : users) ctx.reply.Bulk(user->Describe());
}

void AclUsers(CommandContext& ctx) {
  const auto users = ctx.server.users.All(ctx.server.config.Snapshot().requirepass);
  ctx.reply.ArrayHeader(users.size());
  for (const auto& user : users) ctx.reply.Bulk(user->name());
}

// The REST front end has no user (its tokens decide); it answers "default".
void AclWhoAmI(CommandContext& ctx) {
  ctx.reply.Bulk(ctx.client.user ? std::string_view(ctx.client.user->name()) : "default");
}

void AclHelp(CommandContext& ctx) {
  ReplyHelp(ctx, "ACL",
            {"CAT [<category>]",
             "    List all commands that belong to <category>, or all command categories",
             "    when no category is specified.", "LIST",
             "    Show users details in config file format.", "USERS",
             "    List all the registered usernames.", "WHOAMI",
             "    Return the current connection username."});
}

}  // namespace tally::server::commands
