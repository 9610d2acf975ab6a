#include "server/slowlog.h"

#include <chrono>

#include "server/client_registry.h"
#include "server/command_table.h"
#include "server/text.h"

namespace tally::server {
namespace {

constexpr size_t kMaxArgs = 32;       // Redis's SLOWLOG_ENTRY_MAX_ARGC
constexpr size_t kMaxArgBytes = 128;  // SLOWLOG_ENTRY_MAX_STRING
constexpr std::string_view kRedacted = "(redacted)";

// Which arguments carry a password: every argument of AUTH, and the two
// after each AUTH option of HELLO (parsed as HELLO parses its options).
std::vector<bool> RedactedArgs(const CommandSpec& spec, const std::vector<std::string>& args) {
  std::vector<bool> redact(args.size(), false);
  if (spec.name == "auth") {
    for (size_t i = 1; i < args.size(); ++i) redact[i] = true;
  } else if (spec.name == "hello") {
    for (size_t i = 2; i < args.size(); ++i) {
      const size_t more = args.size() - 1 - i;
      if (EqualsNoCase(args[i], "auth") && more >= 2) {
        redact[i + 1] = redact[i + 2] = true;
        i += 2;
      } else if (EqualsNoCase(args[i], "setname") && more >= 1) {
        ++i;
      } else {
        break;
      }
    }
  }
  return redact;
}

}  // namespace

void SlowLog::Configure(int64_t log_slower_than_us, int64_t max_len) {
  threshold_us_.store(log_slower_than_us, std::memory_order_relaxed);
  std::lock_guard lock(mu_);
  // As in Redis, a shorter maximum trims the log at the next entry.
  max_len_ = max_len < 0 ? 0 : static_cast<size_t>(max_len);
}

void SlowLog::Add(const CommandSpec& spec, const std::vector<std::string>& args,
                  int64_t duration_us, const ClientRecord* client) {
  SlowLogEntry entry;
  entry.unix_seconds = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  entry.duration_us = duration_us;
  const std::vector<bool> redact = RedactedArgs(spec, args);
  const size_t kept = std::min(args.size(), kMaxArgs);
  for (size_t i = 0; i < kept; ++i) {
    if (kept != args.size() && i == kept - 1) {
      entry.args.push_back("... (" + std::to_string(args.size() - kept + 1) + " more arguments)");
    } else if (redact[i]) {
      entry.args.emplace_back(kRedacted);
    } else if (args[i].size() > kMaxArgBytes) {
      entry.args.push_back(args[i].substr(0, kMaxArgBytes) + "... (" +
                           std::to_string(args[i].size() - kMaxArgBytes) + " more bytes)");
    } else {
      entry.args.push_back(args[i]);
    }
  }
  if (client != nullptr) {
    entry.client_addr = client->addr;
    entry.client_name = client->name();
  }
  std::lock_guard lock(mu_);
  entry.id = next_id_++;
  entries_.push_front(std::move(entry));
  while (entries_.size() > max_len_) entries_.pop_back();
}

std::vector<SlowLogEntry> SlowLog::Newest(int64_t count) const {
  std::lock_guard lock(mu_);
  const size_t n =
      count < 0 ? entries_.size() : std::min(entries_.size(), static_cast<size_t>(count));
  return {entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(n)};
}

size_t SlowLog::Length() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

void SlowLog::Reset() {
  std::lock_guard lock(mu_);
  entries_.clear();
}

}  // namespace tally::server
