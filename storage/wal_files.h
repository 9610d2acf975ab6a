// What RocksDB's write-ahead log holds for replay in a data directory, looked
// at before the directory is opened: the start-up log says "recovered after an
// unclean shutdown" only when there was something to recover.
#pragma once

#include <cstdint>
#include <string>

namespace tally::storage {

struct WalToReplay {
  uint64_t files = 0;  // RocksDB WAL files (named <number>.log) found
  uint64_t bytes = 0;  // their total size; 0 after a clean shutdown
};

// The WAL files of the database in `dir`. Nothing when `dir` holds no
// database yet (no CURRENT file): a first start, even in a directory that
// already holds other files. Files that are not RocksDB's ("app.log", a
// --logfile placed in the data directory) are not counted.
WalToReplay FindWalToReplay(const std::string& dir);

}  // namespace tally::storage
