// tally-server: reads the configuration, opens the keyspace, serves RESP
// until SIGINT/SIGTERM/SHUTDOWN, then closes everything cleanly.
// `tally-server import|export ...` run the data-moving tools instead.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string_view>

#include "server/acl.h"
#include "server/config.h"
#include "server/logging.h"
#include "server/os_limits.h"
#include "server/server.h"
#include "server/tools/tools.h"
#include "storage/keyspace.h"
#include "storage/wal_files.h"

#ifdef TALLY_TEST_ENV_FACTORY
namespace rocksdb {
class Env;
}
namespace tally::testing {
rocksdb::Env* TestEnvFromEnvironment();
}
#endif

using namespace tally;

int main(int argc, char** argv) {
  // Subcommands that move data in and out (server/tools/tools.h).
  if (argc >= 2 && std::string_view(argv[1]) == "import") {
    return server::tools::RunImport(argc - 1, argv + 1);
  }
  if (argc >= 2 && std::string_view(argv[1]) == "export") {
    return server::tools::RunExport(argc - 1, argv + 1);
  }
  server::Config config;
  server::CommandLineAction action;
  if (auto err = server::ParseCommandLine(argc, argv, &config, &action)) {
    std::fprintf(stderr, "tally-server: %s\nRun 'tally-server --help' for the settings.\n",
                 err->c_str());
    return 1;
  }
  if (action == server::CommandLineAction::kHelp) {
    std::fputs(server::HelpText().c_str(), stdout);
    return 0;
  }
  if (action == server::CommandLineAction::kPrintConfig) {
    std::fputs(server::ExampleConfigText().c_str(), stdout);
    return 0;
  }
  if (action == server::CommandLineAction::kVersion) {
    std::printf("tally-server %s (git %s)\n", TALLY_VERSION, TALLY_GIT_SHA);
    return 0;
  }
  // Users (and the ACL file) are checked before anything else starts.
  server::acl::UserDirectory users;
  if (auto err = server::acl::UserDirectory::Load(config, &users)) {
    std::fprintf(stderr, "tally-server: %s\n", err->c_str());
    return 1;
  }
  if (auto err = server::SetupLogging(config.logfile, config.loglevel)) {
    std::fprintf(stderr, "tally-server: %s\n", err->c_str());
    return 1;
  }
  spdlog::info("Tally {} (git {}) starting, pid {}", TALLY_VERSION, TALLY_GIT_SHA,
               static_cast<long>(getpid()));

  // Every client needs a file descriptor: make room for maxclients, or lower
  // it to what fits, as Redis does.
  const int64_t clients_that_fit = server::RaiseOpenFileLimit(config.maxclients);
  if (clients_that_fit < 1) {
    spdlog::critical("the open-file limit leaves no room for clients; raise 'ulimit -n'");
    return 1;
  }
  config.maxclients = clients_that_fit;

  storage::OpenOptions options;
  options.dir = config.dir;
  storage::ParseDurability(config.durability, &options.durability);
  options.counter_cache_bytes = static_cast<size_t>(config.counter_cache_size);
#ifdef TALLY_TEST_ENV_FACTORY
  // Test builds only: a RocksDB Env that records what was synced.
  options.env = testing::TestEnvFromEnvironment();
#endif
  // Before opening: RocksDB empties the log it replays.
  const storage::WalToReplay wal = storage::FindWalToReplay(config.dir);
  std::unique_ptr<storage::Keyspace> keyspace;
  storage::OpenStats stats;
  if (auto status = storage::Keyspace::Open(options, &keyspace, &stats); !status.ok()) {
    spdlog::critical("cannot open data directory '{}': {}", config.dir, status.message());
    return 1;
  }
  std::error_code ec;
  std::string data_dir = std::filesystem::absolute(config.dir, ec).lexically_normal().string();
  if (wal.bytes > 0) {
    // The last run did not close cleanly (a clean close flushes the memtables
    // and leaves an empty log): RocksDB replayed its write-ahead log.
    spdlog::warn(
        "RocksDB recovered after an unclean shutdown: {} keys, replayed {} WAL file(s), "
        "{} bytes, in {:.3f} s",
        stats.keys, wal.files, wal.bytes, stats.open_seconds);
  }
  spdlog::info("data in {}: {} keys, opened in {:.3f} s, durability {}", ec ? config.dir : data_dir,
               stats.keys, stats.open_seconds, config.durability);

  server::LiveConfig live_config(config);
  {
    server::Server server(config, live_config, *keyspace);
    server.context().users = std::move(users);
    if (auto err = server.Listen()) {
      spdlog::critical("{}", *err);
      return 1;
    }
    spdlog::info("listening on {}{}{}; ready to accept connections", config.bind,
                 config.port != 0 ? " port " + std::to_string(config.port) : "",
                 config.tls_port != 0 ? " tls-port " + std::to_string(config.tls_port) : "");
    server.Run();
  }
  keyspace.reset();  // flushes and closes RocksDB
  spdlog::info("Tally is now ready to exit, bye bye...");
  return 0;
}
