#include "storage/wal_files.h"

#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

#include "tests/unit/storage/keyspace_fixture.h"

using tally::storage::FindWalToReplay;
using tally::storage::testing::TempDir;
using tally::storage::testing::TestKeyspace;

namespace {

void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path) << text;
}

}  // namespace

TEST_CASE("a directory without a database has no WAL to replay", "[wal_files]") {
  TempDir dir;
  // Named like RocksDB's files, but there is no CURRENT: not a database.
  WriteFile(dir.path() / "000007.log", "not a write-ahead log");
  WriteFile(dir.path() / "app.log", "an application's log");
  const auto wal = FindWalToReplay(dir.path().string());
  CHECK(wal.files == 0);
  CHECK(wal.bytes == 0);
  CHECK(FindWalToReplay((dir.path() / "missing").string()).files == 0);
}

TEST_CASE("the WAL holds writes while open and nothing after a clean close", "[wal_files]") {
  TestKeyspace ks;
  const std::string dir = ks.options.dir;
  // Other files with a .log suffix are not RocksDB's and never count.
  WriteFile(std::filesystem::path(dir) / "tally.log", std::string(4096, 'x'));

  int64_t value = 0;
  REQUIRE_OK(ks->IncrBy("counter", 5, &value));
  // What a crash at this point would leave for the next start to replay.
  const auto open_wal = FindWalToReplay(dir);
  CHECK(open_wal.files >= 1);
  CHECK(open_wal.bytes > 0);

  ks.Close();  // flushes the memtables: the log is left empty
  const auto closed_wal = FindWalToReplay(dir);
  CHECK(closed_wal.files >= 1);
  CHECK(closed_wal.bytes == 0);
}
