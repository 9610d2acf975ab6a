// Handing the WAL syncer's "durable" back to an I/O thread, the one way all
// front ends wait for a sync before answering (durability "always").
#pragma once

// Boost 1.74's asio/awaitable.hpp uses std::exchange without including
// <utility>, so it must come first (in its own block, which clang-format keeps).
#include <utility>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <cstdint>
#include <memory>

#include "storage/wal_syncer.h"

namespace tally::server {

// Runs `handler(durable)` on `executor`'s thread once every write up to
// `sequence` is synced (durable true) or the sync failed (false).
//
// The wait is no asio operation, so it holds a work guard: at shutdown the
// io_context keeps running, and its owner (the Server) stays alive, until the
// answer is back. Everything `handler` owns (connections, queued replies)
// moves to the executor's thread with it and is destroyed there, never on the
// syncer thread: a last reference dropped there could destroy a connection
// concurrently with its I/O thread, or after the Server is gone.
template <typename Executor, typename Handler>
void PostWhenDurable(storage::WalSyncer& syncer, uint64_t sequence, const Executor& executor,
                     Handler handler) {
  struct Waiting {
    boost::asio::executor_work_guard<Executor> work;
    Handler handler;
  };
  auto waiting = std::make_shared<Waiting>(
      Waiting{boost::asio::make_work_guard(executor), std::move(handler)});
  syncer.WhenDurable(sequence, [waiting = std::move(waiting)](bool durable) mutable {
    // The only reference moves into the posted handler: the syncer keeps
    // nothing, and the work guard goes only after the handler has run.
    const Executor target = waiting->work.get_executor();
    boost::asio::post(target,
                      [waiting = std::move(waiting), durable] { waiting->handler(durable); });
  });
}

}  // namespace tally::server
