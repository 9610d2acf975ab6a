// The data-moving subcommands of tally-server (docs/operations.md):
//
//   tally-server import --from URL [--to URL] [--match PATTERN] ...
//       copies string keys and their expiry from any Redis-protocol server
//       into a running Tally (or any Redis), resumably.
//   tally-server export --format resp|json [--from URL] [--match PATTERN]
//       writes them to standard output.
//
// Both take argv with the subcommand's name as argv[0] and return the
// process's exit code: 0 done, 1 error (the message is on stderr), 2
// stopped early (Ctrl-C, SIGTERM, or import's --max-batches).
#pragma once

namespace tally::server::tools {

int RunImport(int argc, char** argv);
int RunExport(int argc, char** argv);

}  // namespace tally::server::tools
