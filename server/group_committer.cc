#include "server/group_committer.h"

#include <boost/asio/post.hpp>

#include "server/post_when_durable.h"

namespace tally::server {

void GroupCommitter::WhenCommitted(Waiter resume) {
  waiters_.push_back(std::move(resume));
  if (commit_posted_) return;
  commit_posted_ = true;
  boost::asio::post(io_, [this] {
    commit_posted_ = false;
    server_.keyspace.CommitGroup();  // reports to OnGroupCommitted if anything was pending
    // An early commit (storage commits a group itself before it would wait)
    // may have taken everything already and resumed the waiters of its time.
    if (!waiters_.empty()) Resume(storage::Status());
  });
}

void GroupCommitter::OnGroupCommitted(const storage::Status& status) {
  if (!status.ok()) {
    ++failures_;
    last_failure_ = status;
    return Resume(status);
  }
  storage::WalSyncer& syncer = server_.keyspace.syncer();
  if (syncer.mode() != storage::Durability::kAlways || waiters_.empty()) return Resume(status);
  // Every waiting reply reflects only writes visible now, so one wait for
  // their sync serves them all (one waiter and one post instead of one per
  // connection).
  PostWhenDurable(syncer, syncer.VisibleSequence(), io_.get_executor(),
                  [waiters = std::move(waiters_)](bool durable) {
                    for (auto& waiter : waiters) waiter(storage::Status(), durable);
                  });
  waiters_.clear();  // moved from: make it empty for the next group.
}

void GroupCommitter::Resume(const storage::Status& status) {
  // Posted, not called: this may run inside another connection's command.
  for (auto& waiter : waiters_) {
    boost::asio::post(io_, [waiter = std::move(waiter), status] { waiter(status, true); });
  }
  waiters_.clear();
}

}  // namespace tally::server
