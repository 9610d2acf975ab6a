// Shared by the keyspace tests: a Keyspace on real RocksDB in a fresh
// temporary directory, with a clock the test moves by hand.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include "storage/encoding.h"
#include "storage/keyspace.h"
#include "storage/layout.h"
#include "storage/merge_operators.h"
#include "storage/value_codec.h"
#include "tests/durability/sync_tracking_fs.h"

// Fails the test with the status message when `expr` is not Ok.
#define REQUIRE_OK(expr)                                    \
  do {                                                      \
    const ::tally::storage::Status status_ = (expr);        \
    INFO("status message: " << status_.message());          \
    REQUIRE(status_.code() == ::tally::storage::Code::kOk); \
  } while (false)

namespace tally::storage::testing {

// A directory under the system temp dir, unique per process and instance,
// removed with everything in it when the object goes.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("tally-storage-test-" + std::to_string(::getpid()) + "-" +
             std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) + "-" +
             std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// The reaper is off unless a test turns it on: with it off, lazily expired
// keys stay stored, which the tests check on purpose.
inline constexpr int kReaperOff = 3'600'000;
inline constexpr int64_t kStartMs = 1'700'000'000'000;

class TestKeyspace {
 public:
  explicit TestKeyspace(int reaper_interval_ms = kReaperOff) {
    options.dir = (dir.path() / "data").string();
    options.clock = [this] { return now_ms.load(); };
    options.reaper_interval_ms = reaper_interval_ms;
    Open();
  }

  Keyspace* operator->() { return keyspace.get(); }
  Keyspace& operator*() { return *keyspace; }

  void Open() { REQUIRE_OK(Keyspace::Open(options, &keyspace, &stats)); }
  void Close() { keyspace.reset(); }
  void Reopen() {
    Close();
    Open();
  }

  void Advance(int64_t ms) { now_ms += ms; }

  std::string Get(std::string_view key) {
    std::string value;
    REQUIRE_OK(keyspace->Get(key, &value));
    return value;
  }
  bool Missing(std::string_view key) {
    std::string value;
    return keyspace->Get(key, &value).code() == Code::kNotFound;
  }
  void Set(std::string_view key, std::string_view value, SetOptions set_options = {}) {
    SetResult result;
    REQUIRE_OK(keyspace->Set(key, value, set_options, &result));
    REQUIRE(result.applied);
  }
  void SetWithExpiry(std::string_view key, std::string_view value, int64_t ttl_ms) {
    SetOptions set_options;
    set_options.expire_at_ms = now_ms + ttl_ms;
    Set(key, value, set_options);
  }
  int64_t Del(const std::vector<std::string_view>& keys) {
    int64_t deleted = -1;
    REQUIRE_OK(keyspace->Del(keys, &deleted));
    return deleted;
  }
  std::vector<std::string> Keys(std::string_view pattern) {
    std::vector<std::string> keys;
    REQUIRE_OK(keyspace->Keys(pattern, &keys));
    return keys;
  }

  std::atomic<int64_t> now_ms{kStartMs};
  TempDir dir;
  OpenOptions options;
  OpenStats stats;
  std::unique_ptr<Keyspace> keyspace;
};

// A keyspace (durability none unless given) whose file system fails every write while
// the file `control` exists: a disk that fills up, and frees up, on demand.
struct FailingDiskKeyspace {
  explicit FailingDiskKeyspace(Durability durability = Durability::kNone) {
    env = rocksdb::NewCompositeEnv(
        tally::testing::NewFaultSwitchFileSystem(rocksdb::FileSystem::Default(), control));
    options.dir = (dir.path() / "data").string();
    options.env = env.get();
    options.durability = durability;
    Open();
  }
  void Open() { REQUIRE_OK(Keyspace::Open(options, &keyspace)); }
  ~FailingDiskKeyspace() {
    keyspace.reset();  // before the env it uses
    std::error_code ignored;
    std::filesystem::remove(control, ignored);
  }
  void FailWrites() const { std::ofstream(control).put('x'); }
  void HealWrites() const { std::filesystem::remove(control); }
  Keyspace* operator->() { return keyspace.get(); }
  Keyspace& operator*() { return *keyspace; }

  TempDir dir;
  const std::string control = (dir.path() / "disk-full").string();
  std::unique_ptr<rocksdb::Env> env;
  OpenOptions options;
  std::unique_ptr<Keyspace> keyspace;
};

// What a closed keyspace directory holds, read straight from RocksDB, so
// tests can check the on-disk invariants the API cannot show.
struct StoreContents {
  std::map<std::string, int64_t> data;  // key -> expire_at_ms (0: none).
  std::set<std::pair<int64_t, std::string>> index;
  int64_t key_count = 0;
  int64_t expiring_count = 0;
  size_t cursor_states = 0;
};

inline StoreContents ReadStore(const std::string& dir) {
  rocksdb::ColumnFamilyOptions meta_options;
  meta_options.merge_operator = NewInt64AddOperator();
  const std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, {}},
      {layout::kExpiryFamily, {}},
      {layout::kMetaFamily, meta_options},
  };
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status opened =
      rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), dir, families, &handles, &raw);
  INFO(opened.ToString());
  REQUIRE(opened.ok());
  std::unique_ptr<rocksdb::DB> db(raw);

  StoreContents contents;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator({}, handles[0]));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ValueHeader header;
    REQUIRE(DecodeHeader(it->value().ToStringView(), &header).ok());
    contents.data[it->key().ToString()] = header.expire_at_ms;
  }
  it.reset(db->NewIterator({}, handles[1]));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string_view key;
    REQUIRE(layout::ParseExpiryIndexKey(it->key().ToStringView(), &key));
    contents.index.emplace(static_cast<int64_t>(GetFixed64BE(it->key().ToStringView())), key);
  }
  it.reset(db->NewIterator({}, handles[2]));
  for (it->Seek(layout::kCursorPrefix); it->Valid() && it->key().starts_with(layout::kCursorPrefix);
       it->Next()) {
    ++contents.cursor_states;
  }
  it.reset();
  for (auto [key, count] : {std::pair{layout::kKeyCountKey, &contents.key_count},
                            std::pair{layout::kExpiringCountKey, &contents.expiring_count}}) {
    std::string encoded;
    if (db->Get({}, handles[2], key, &encoded).ok()) REQUIRE(layout::DecodeInt64(encoded, count));
  }
  for (rocksdb::ColumnFamilyHandle* handle : handles) {
    REQUIRE(db->DestroyColumnFamilyHandle(handle).ok());
  }
  return contents;
}

// The invariant every write batch keeps: an index entry (t, key) exists iff
// the data holds key with expiry t, and the stored counts match the data.
inline void CheckStoreInvariants(const StoreContents& contents) {
  std::set<std::pair<int64_t, std::string>> expected_index;
  for (const auto& [key, expire_at_ms] : contents.data) {
    if (expire_at_ms != 0) expected_index.emplace(expire_at_ms, key);
  }
  CHECK(contents.index == expected_index);
  CHECK(contents.key_count == static_cast<int64_t>(contents.data.size()));
  CHECK(contents.expiring_count == static_cast<int64_t>(expected_index.size()));
}

}  // namespace tally::storage::testing
