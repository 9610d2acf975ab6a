// Group commit for one I/O thread. Connections execute what they read inside
// a storage::Keyspace::GroupScope, so their writes join the thread's write
// group instead of each going to RocksDB alone; a connection whose replies
// may reflect that group (its own writes, or reads of the thread's pending
// writes) waits here. The commit is posted to the thread's io_context: it runs
// once the handlers that are ready now have run, so every client the thread
// serves in one turn, and every command of each one's pipeline, shares one
// RocksDB write and one WAL append.
#pragma once

// Boost 1.74's asio/awaitable.hpp uses std::exchange without including
// <utility>, so it must come first (in its own block, which clang-format keeps).
#include <utility>

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "server/server_context.h"
#include "storage/keyspace.h"

namespace tally::server {

class GroupCommitter : public storage::GroupListener {
 public:
  GroupCommitter(boost::asio::io_context& io, ServerContext& server) : io_(io), server_(server) {}
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // Calls `resume` through the io_context with the status of the commit of
  // the thread's pending group, once it is done and, with durability
  // "always", once the WAL sync covering everything visible at the commit
  // is done too; makes sure a commit is coming. Call on the thread, while its
  // group is pending. A failed commit applied none of its writes: `status`
  // says why. A commit that succeeded but whose writes could not be made
  // durable (the sync failed and the disk did not recover in time, see
  // WalSyncer::WhenDurable) has an Ok status and `durable` false: its
  // writes were applied, so an error reply would be a lie too.
  using Waiter = std::function<void(const storage::Status& status, bool durable)>;
  void WhenCommitted(Waiter resume);
  // How many of this thread's commits have failed, and the last failure. A
  // connection compares the count before and after executing a read's
  // commands: a difference means a commit that may have held its writes
  // failed meanwhile.
  uint64_t failures() const { return failures_; }
  const storage::Status& last_failure() const { return last_failure_; }

  // Resumes every waiting connection, after one WAL sync for all of them if
  // needed. (The keyspace's write observer has told WATCH of the keys.)
  void OnGroupCommitted(const storage::Status& status) override;

 private:
  void Resume(const storage::Status& status);

  boost::asio::io_context& io_;
  ServerContext& server_;
  std::vector<Waiter> waiters_;
  bool commit_posted_ = false;
  uint64_t failures_ = 0;
  storage::Status last_failure_;
};

}  // namespace tally::server
