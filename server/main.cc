// tally-server: reads the configuration, opens the keyspace, serves RESP
// until SIGINT/SIGTERM/SHUTDOWN, then closes everything cleanly.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "server/config.h"
#include "server/logging.h"
#include "server/server.h"
#include "storage/keyspace.h"

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
  if (auto err = server::SetupLogging(config.logfile, config.loglevel)) {
    std::fprintf(stderr, "tally-server: %s\n", err->c_str());
    return 1;
  }
  spdlog::info("Tally {} (git {}) starting, pid {}", TALLY_VERSION, TALLY_GIT_SHA,
               static_cast<long>(getpid()));

  storage::OpenOptions options;
  options.dir = config.dir;
  storage::ParseDurability(config.durability, &options.durability);
  options.counter_cache_bytes = static_cast<size_t>(config.counter_cache_size);
#ifdef TALLY_TEST_ENV_FACTORY
  // Test builds only: a RocksDB Env that records what was synced.
  options.env = testing::TestEnvFromEnvironment();
#endif
  std::unique_ptr<storage::Keyspace> keyspace;
  storage::OpenStats stats;
  if (auto status = storage::Keyspace::Open(options, &keyspace, &stats); !status.ok()) {
    spdlog::critical("cannot open data directory '{}': {}", config.dir, status.message());
    return 1;
  }
  std::error_code ec;
  std::string data_dir = std::filesystem::absolute(config.dir, ec).lexically_normal().string();
  if (stats.wal_bytes > 0) {
    // The last run did not close cleanly (a clean close flushes the memtables
    // and leaves an empty log): RocksDB replayed its write-ahead log.
    spdlog::warn(
        "RocksDB recovered after an unclean shutdown: {} keys, replayed {} WAL file(s), "
        "{} bytes, in {:.3f} s",
        stats.keys, stats.wal_files, stats.wal_bytes, stats.open_seconds);
  }
  spdlog::info("data in {}: {} keys, opened in {:.3f} s, durability {}", ec ? config.dir : data_dir,
               stats.keys, stats.open_seconds, config.durability);

  server::LiveConfig live_config(config);
  {
    server::Server server(config, live_config, *keyspace);
    if (auto err = server.Listen()) {
      spdlog::critical("{}", *err);
      return 1;
    }
    spdlog::info("listening on {} port {}; ready to accept connections", config.bind, config.port);
    server.Run();
  }
  keyspace.reset();  // flushes and closes RocksDB
  spdlog::info("Tally is now ready to exit, bye bye...");
  return 0;
}
