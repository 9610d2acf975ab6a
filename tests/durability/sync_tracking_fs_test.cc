// The sync-tracking file system against real RocksDB on a temp dir: what it
// journals must match what RocksDB really asked the disk to keep, or the
// power-loss tests built on it would prove nothing.
#include "tests/durability/sync_tracking_fs.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <rocksdb/db.h>
#include <catch2/catch.hpp>

namespace tally::testing {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() /
            ("tally-synctrack-test-" + std::to_string(::getpid()) + "-" +
             std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) + "-" +
             std::to_string(counter++));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Decode(const std::string& field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '%' && i + 2 < field.size()) {
      out.push_back(static_cast<char>(std::stoi(field.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(field[i]);
    }
  }
  return out;
}

// Journal records without their timestamps: {"sync", "/path", "123"}.
std::vector<std::vector<std::string>> Records(const fs::path& journal) {
  std::vector<std::vector<std::string>> records;
  std::istringstream lines(ReadFile(journal));
  std::string line;
  while (std::getline(lines, line)) {
    std::vector<std::string> fields;
    std::istringstream parts(line);
    std::string field;
    while (std::getline(parts, field, '\t')) fields.push_back(Decode(field));
    REQUIRE(fields.size() >= 2);
    fields.erase(fields.begin());
    records.push_back(std::move(fields));
  }
  return records;
}

// Bytes of `path` the journal says were synced (-1: none).
int64_t SyncedLength(const std::vector<std::vector<std::string>>& records, const fs::path& path) {
  int64_t synced = -1;
  for (const auto& record : records) {
    if (record[0] == "sync" && record[1] == path.string()) {
      synced = std::max<int64_t>(synced, std::stoll(record[2]));
    }
  }
  return synced;
}

fs::path OnlyWal(const fs::path& dir) {
  std::vector<fs::path> wals;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".log") wals.push_back(entry.path());
  }
  REQUIRE(wals.size() == 1);
  return wals[0];
}

struct TrackedDb {
  explicit TrackedDb(const TempDir& dir) : journal(dir.path() / "journal") {
    std::string error;
    auto fs = NewSyncTrackingFileSystem(rocksdb::FileSystem::Default(), journal.string(), &error);
    REQUIRE(fs != nullptr);
    env = rocksdb::NewCompositeEnv(fs);
    rocksdb::Options options;
    options.create_if_missing = true;
    options.env = env.get();
    rocksdb::DB* raw = nullptr;
    rocksdb::Status status = rocksdb::DB::Open(options, (dir.path() / "db").string(), &raw);
    INFO(status.ToString());
    REQUIRE(status.ok());
    db.reset(raw);
  }
  fs::path journal;
  std::unique_ptr<rocksdb::Env> env;
  std::unique_ptr<rocksdb::DB> db;
};

TEST_CASE("an unsynced write is not journaled as synced; SyncWAL covers all of it") {
  TempDir dir;
  TrackedDb tracked(dir);
  const fs::path wal = OnlyWal(dir.path() / "db");
  const int64_t synced_at_open = SyncedLength(Records(tracked.journal), wal);

  rocksdb::WriteOptions unsynced;
  REQUIRE(tracked.db->Put(unsynced, "counter", "1").ok());
  const int64_t size_after_put = static_cast<int64_t>(fs::file_size(wal));
  REQUIRE(size_after_put > std::max<int64_t>(synced_at_open, 0));
  CHECK(SyncedLength(Records(tracked.journal), wal) == synced_at_open);

  REQUIRE(tracked.db->SyncWAL().ok());
  const auto records = Records(tracked.journal);
  CHECK(SyncedLength(records, wal) == size_after_put);
  // The WAL was created in this session: its directory entry has to be
  // synced too, and the journal must show it was.
  bool created = false;
  bool dir_synced_after_create = false;
  for (const auto& record : records) {
    if (record[0] == "create" && record[1] == wal.string()) created = true;
    if (created && record[0] == "dirsync" && record[1] == (dir.path() / "db").string()) {
      dir_synced_after_create = true;
    }
  }
  CHECK(created);
  CHECK(dir_synced_after_create);
}

TEST_CASE("a synced write is journaled before Write returns") {
  TempDir dir;
  TrackedDb tracked(dir);
  const fs::path wal = OnlyWal(dir.path() / "db");
  rocksdb::WriteOptions synced;
  synced.sync = true;
  for (int i = 0; i < 5; ++i) {
    REQUIRE(tracked.db->Put(synced, "key" + std::to_string(i), "value").ok());
    CHECK(SyncedLength(Records(tracked.journal), wal) == static_cast<int64_t>(fs::file_size(wal)));
  }
}

TEST_CASE("a rename over an existing file keeps a copy of the file it replaced") {
  TempDir dir;
  std::string error;
  const fs::path journal = dir.path() / "journal";
  auto tracking =
      NewSyncTrackingFileSystem(rocksdb::FileSystem::Default(), journal.string(), &error);
  REQUIRE(tracking != nullptr);
  const fs::path current = dir.path() / "CURRENT";
  const fs::path temp = dir.path() / "CURRENT.tmp";
  for (const auto& [path, text] : {std::pair{current, "old"}, std::pair{temp, "new"}}) {
    std::unique_ptr<rocksdb::FSWritableFile> file;
    REQUIRE(tracking->NewWritableFile(path.string(), rocksdb::FileOptions(), &file, nullptr).ok());
    REQUIRE(file->Append(text, rocksdb::IOOptions(), nullptr).ok());
    REQUIRE(file->Sync(rocksdb::IOOptions(), nullptr).ok());
    REQUIRE(file->Close(rocksdb::IOOptions(), nullptr).ok());
  }
  REQUIRE(
      tracking->RenameFile(temp.string(), current.string(), rocksdb::IOOptions(), nullptr).ok());

  const auto records = Records(journal);
  REQUIRE(records.back().size() == 4);
  CHECK(records.back()[0] == "rename");
  CHECK(records.back()[1] == temp.string());
  CHECK(records.back()[2] == current.string());
  CHECK(ReadFile(records.back()[3]) == "old");
  CHECK(ReadFile(current) == "new");
  CHECK(SyncedLength(records, current) == 3);
}

TEST_CASE("paths are percent-encoded so that every record stays one line of tab-separated fields") {
  TempDir dir;
  std::string error;
  const fs::path journal = dir.path() / "journal";
  auto tracking =
      NewSyncTrackingFileSystem(rocksdb::FileSystem::Default(), journal.string(), &error);
  REQUIRE(tracking != nullptr);
  const fs::path odd = dir.path() / "a\tb%c\nd";
  std::unique_ptr<rocksdb::FSWritableFile> file;
  REQUIRE(tracking->NewWritableFile(odd.string(), rocksdb::FileOptions(), &file, nullptr).ok());
  REQUIRE(file->Append("xy", rocksdb::IOOptions(), nullptr).ok());
  REQUIRE(file->Fsync(rocksdb::IOOptions(), nullptr).ok());
  const auto records = Records(journal);
  REQUIRE(records.size() == 2);
  CHECK(records[0] == std::vector<std::string>{"create", odd.string(), "0"});
  CHECK(records[1] == std::vector<std::string>{"sync", odd.string(), "2"});
}

TEST_CASE("an unwritable journal is reported, not ignored") {
  TempDir dir;
  std::string error;
  auto tracking = NewSyncTrackingFileSystem(rocksdb::FileSystem::Default(),
                                            (dir.path() / "missing" / "journal").string(), &error);
  CHECK(tracking == nullptr);
  CHECK(error.find("cannot open sync journal") != std::string::npos);
}

}  // namespace
}  // namespace tally::testing
