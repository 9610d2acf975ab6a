// INFO's instantaneous_ops_per_sec without a timer or any cost per command:
// each INFO call records (time, commands processed so far) and the rate is
// taken over the last ~1.6 s of those records (Redis averages 16 samples of
// 100 ms). Between distant INFO calls it is the average since the last one.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>

namespace tally::server {

class OpsMeter {
 public:
  using Clock = std::chrono::steady_clock;

  OpsMeter() { samples_.push_back({Clock::now(), 0}); }

  // Records `total` commands at `now` and returns the commands per second.
  int64_t Observe(Clock::time_point now, uint64_t total) {
    std::lock_guard lock(mu_);
    // CONFIG RESETSTAT zeroes the counter: start over from here.
    if (total < samples_.back().total) samples_.assign(1, {now, total});
    samples_.push_back({now, total});
    // Keep the newest sample that is at least a window old as the baseline.
    while (samples_.size() > 2 && samples_[1].at <= now - kWindow) samples_.pop_front();
    const Sample& base = samples_.front();
    const double seconds = std::chrono::duration<double>(now - base.at).count();
    if (seconds <= 0) return 0;
    return static_cast<int64_t>(static_cast<double>(total - base.total) / seconds + 0.5);
  }

 private:
  static constexpr std::chrono::milliseconds kWindow{1600};
  struct Sample {
    Clock::time_point at;
    uint64_t total;
  };
  std::mutex mu_;
  std::deque<Sample> samples_;
};

}  // namespace tally::server
