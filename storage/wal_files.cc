#include "storage/wal_files.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace tally::storage {
namespace {

// RocksDB names its WAL files with the log number and ".log" ("000012.log");
// its info log is "LOG" and its other files have other suffixes.
bool IsWalFileName(const std::filesystem::path& name) {
  if (name.extension() != ".log") return false;
  const std::string stem = name.stem().string();
  return !stem.empty() && std::all_of(stem.begin(), stem.end(),
                                      [](unsigned char c) { return std::isdigit(c) != 0; });
}

}  // namespace

WalToReplay FindWalToReplay(const std::string& dir) {
  namespace fs = std::filesystem;
  WalToReplay out;
  std::error_code error;
  // No CURRENT file, no database: no earlier run that could have stopped
  // uncleanly, whatever else the directory holds.
  if (!fs::is_regular_file(fs::path(dir) / "CURRENT", error)) return out;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    std::error_code ignored;
    if (!IsWalFileName(entry.path().filename()) || !entry.is_regular_file(ignored)) continue;
    ++out.files;
    const uintmax_t size = entry.file_size(ignored);
    if (!ignored) out.bytes += size;
  }
  return out;
}

}  // namespace tally::storage
