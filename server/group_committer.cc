#include "server/group_committer.h"

#include <boost/asio/post.hpp>

namespace tally::server {

void GroupCommitter::WhenCommitted(std::function<void(const storage::Status&)> resume) {
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

void GroupCommitter::OnGroupCommitted(const storage::Status& status,
                                      const std::vector<std::string_view>& keys) {
  if (!status.ok()) {
    ++failures_;
    last_failure_ = status;
  } else if (!server_.watches.empty()) {
    server_.watches.Touch(keys);
  }
  Resume(status);
}

void GroupCommitter::Resume(const storage::Status& status) {
  // Posted, not called: this may run inside another connection's command.
  for (auto& waiter : waiters_) {
    boost::asio::post(io_, [waiter = std::move(waiter), status] { waiter(status); });
  }
  waiters_.clear();
}

}  // namespace tally::server
