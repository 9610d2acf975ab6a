#include "storage/key_locks.h"

#include <algorithm>
#include <functional>
#include <numeric>
#include <utility>

namespace tally::storage {

KeyLocks::Guard::Guard(KeyLocks* locks, size_t stripe) : locks_(locks), stripe_(stripe) {}

KeyLocks::Guard::Guard(KeyLocks* locks, std::vector<size_t> stripes)
    : locks_(locks), stripes_(std::move(stripes)) {}

KeyLocks::Guard::Guard(Guard&& other) noexcept
    : locks_(std::exchange(other.locks_, nullptr)),
      stripe_(other.stripe_),
      stripes_(std::move(other.stripes_)) {
  other.stripes_.clear();
}

KeyLocks::Guard& KeyLocks::Guard::operator=(Guard&& other) noexcept {
  if (this != &other) {
    Release();
    locks_ = std::exchange(other.locks_, nullptr);
    stripe_ = other.stripe_;
    stripes_ = std::move(other.stripes_);
    other.stripes_.clear();
  }
  return *this;
}

KeyLocks::Guard::~Guard() { Release(); }

void KeyLocks::Guard::Release() {
  if (locks_ == nullptr) return;
  if (stripes_.empty()) locks_->stripes_[stripe_].mutex.unlock();
  for (auto it = stripes_.rbegin(); it != stripes_.rend(); ++it) {
    locks_->stripes_[*it].mutex.unlock();
  }
  locks_ = nullptr;
  stripes_.clear();
}

size_t KeyLocks::StripeOf(std::string_view key) {
  return std::hash<std::string_view>{}(key) % kStripes;
}

KeyLocks::Guard KeyLocks::LockSorted(std::vector<size_t> stripes) {
  if (stripes.empty()) return Guard();  // holds nothing (Release unlocks no stripe).
  for (size_t stripe : stripes) LockStripe(stripe);
  return Guard(this, std::move(stripes));
}

KeyLocks::Guard KeyLocks::Lock(std::string_view key) {
  const size_t stripe = StripeOf(key);
  LockStripe(stripe);
  return Guard(this, stripe);
}

KeyLocks::Guard KeyLocks::Lock(const std::vector<std::string_view>& keys) {
  std::vector<size_t> stripes;
  stripes.reserve(keys.size());
  for (std::string_view key : keys) stripes.push_back(StripeOf(key));
  std::sort(stripes.begin(), stripes.end());
  stripes.erase(std::unique(stripes.begin(), stripes.end()), stripes.end());
  return LockSorted(std::move(stripes));
}

bool KeyLocks::TryLock(const std::vector<std::string_view>& keys, const HeldSet* held,
                       Guard* guard) {
  std::vector<size_t> stripes;
  stripes.reserve(keys.size());
  for (std::string_view key : keys) {
    const size_t stripe = StripeOf(key);
    if (held == nullptr || !held->Holds(stripe)) stripes.push_back(stripe);
  }
  std::sort(stripes.begin(), stripes.end());
  stripes.erase(std::unique(stripes.begin(), stripes.end()), stripes.end());
  for (size_t i = 0; i < stripes.size(); ++i) {
    if (stripes_[stripes[i]].mutex.try_lock()) continue;
    while (i > 0) stripes_[stripes[--i]].mutex.unlock();
    return false;
  }
  *guard = stripes.empty() ? Guard() : Guard(this, std::move(stripes));
  return true;
}

KeyLocks::Guard KeyLocks::LockAll() {
  std::vector<size_t> stripes(kStripes);
  std::iota(stripes.begin(), stripes.end(), size_t{0});
  return LockSorted(std::move(stripes));
}

void KeyLocks::LockStripe(size_t stripe) {
  Stripe& wanted = stripes_[stripe];
  if (wanted.mutex.try_lock()) return;
  if (HeldSet* holder = wanted.holder.load(std::memory_order_acquire)) {
    holder->wanted_.store(true, std::memory_order_relaxed);
  }
  wanted.mutex.lock();
}

bool KeyLocks::HeldSet::TryAdd(size_t stripe) {
  if (member_[stripe]) return true;
  Stripe& wanted = locks_->stripes_[stripe];
  if (!wanted.mutex.try_lock()) {
    if (HeldSet* holder = wanted.holder.load(std::memory_order_acquire)) {
      holder->wanted_.store(true, std::memory_order_relaxed);
    }
    return false;
  }
  wanted.holder.store(this, std::memory_order_release);
  member_[stripe] = true;
  held_.push_back(stripe);
  return true;
}

void KeyLocks::HeldSet::Add(size_t stripe) {
  if (member_[stripe]) return;
  locks_->LockStripe(stripe);
  locks_->stripes_[stripe].holder.store(this, std::memory_order_release);
  member_[stripe] = true;
  held_.push_back(stripe);
}

void KeyLocks::HeldSet::ReleaseAll() {
  for (auto it = held_.rbegin(); it != held_.rend(); ++it) {
    Stripe& stripe = locks_->stripes_[*it];
    stripe.holder.store(nullptr, std::memory_order_relaxed);
    stripe.mutex.unlock();
    member_[*it] = false;
  }
  held_.clear();
  wanted_.store(false, std::memory_order_relaxed);
}

}  // namespace tally::storage
