// RocksDB's info log (the LOG file in the data directory), written so that a
// full disk cannot crash the server.
//
// RocksDB 7.8's own info log writes through a WritableFileWriter, which
// remembers a failed write and, on the next log line, hits
// `assert(sync_without_flush_called_)` in AssertFalseAndGetStatusForPrevError()
// (Debian builds RocksDB with its asserts on): the first line logged after the
// disk filled up aborted the process. This one appends each line straight to
// the file (through the DB's Env, so injected file systems see it) and drops a
// line that cannot be written; the next line is tried again, so logging
// resumes by itself once space is freed.
#pragma once

#include <rocksdb/env.h>

#include <memory>
#include <string>

namespace tally::storage {

// Opens `dir`/LOG for appending, through `env`'s file system. A LOG grown past 16 MB over earlier
// runs becomes LOG.old (replacing the one before it), so the log takes bounded space. Returns
// nullptr if the file cannot be opened (RocksDB then opens its own).
std::shared_ptr<rocksdb::Logger> OpenInfoLog(rocksdb::Env* env, const std::string& dir);

}  // namespace tally::storage
