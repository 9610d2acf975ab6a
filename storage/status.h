// The result of a storage operation: a typed code, and for I/O and disk
// errors RocksDB's own text. The server maps each code to Redis's error text
// in one place (server/commands/common.cc).
#pragma once

#include <string>
#include <utility>

namespace tally::storage {

enum class Code {
  kOk,
  kNotFound,       // the key does not exist (or has expired).
  kNotInteger,     // the stored value is not a valid int64.
  kNotFloat,       // the stored value is not a valid float.
  kOverflow,       // the increment would overflow int64.
  kNanOrInf,       // the float increment would produce NaN or infinity.
  kInvalidCursor,  // a SCAN cursor this keyspace does not know.
  kIoError,        // RocksDB failed; message() names the problem.
  // Writing to the data directory failed (disk full, I/O error, read-only
  // file system): writes are refused until the disk is writable again, reads
  // keep working. message() is the disk's error as RocksDB reported it.
  kDiskError,
  kBusy,  // a checkpoint is already being taken.
};

class Status {
 public:
  Status() = default;
  Status(Code code, std::string message = {}) : code_(code), message_(std::move(message)) {}
  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

}  // namespace tally::storage
