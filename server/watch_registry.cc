#include "server/watch_registry.h"

#include <algorithm>

namespace tally::server {

bool Watcher::Watch(WatchRegistry& registry, std::string_view key) {
  registry_ = &registry;
  if (!registry.Add(this, key)) return false;
  keys_.push_back({std::string(key), -1});
  return true;
}

void Watcher::SetExpireAt(std::string_view key, int64_t expire_at_ms) {
  for (auto& watched : keys_) {
    if (watched.key == key) watched.expire_at_ms = expire_at_ms;
  }
}

void Watcher::UnwatchAll() {
  if (registry_ != nullptr) {
    for (const auto& watched : keys_) registry_->Remove(this, watched.key);
  }
  keys_.clear();
  dirty_.store(false, std::memory_order_release);
}

std::vector<std::string_view> Watcher::keys() const {
  std::vector<std::string_view> out;
  out.reserve(keys_.size());
  for (const auto& watched : keys_) out.push_back(watched.key);
  return out;
}

bool Watcher::Dirty(int64_t now_ms) const {
  if (touched()) return true;
  return std::any_of(keys_.begin(), keys_.end(), [now_ms](const WatchedKey& watched) {
    return watched.expire_at_ms >= 0 && watched.expire_at_ms <= now_ms;
  });
}

bool WatchRegistry::Add(Watcher* watcher, std::string_view key) {
  std::lock_guard lock(mu_);
  auto& list = watchers_[std::string(key)];
  if (std::find(list.begin(), list.end(), watcher) != list.end()) return false;
  list.push_back(watcher);
  watched_.fetch_add(1, std::memory_order_acq_rel);
  return true;
}

void WatchRegistry::Remove(Watcher* watcher, std::string_view key) {
  std::lock_guard lock(mu_);
  auto it = watchers_.find(std::string(key));
  if (it == watchers_.end()) return;
  auto& list = it->second;
  auto pos = std::find(list.begin(), list.end(), watcher);
  if (pos == list.end()) return;
  list.erase(pos);
  watched_.fetch_sub(1, std::memory_order_acq_rel);
  if (list.empty()) watchers_.erase(it);
}

void WatchRegistry::Touch(const std::vector<std::string_view>& keys) {
  std::lock_guard lock(mu_);
  for (auto key : keys) TouchLocked(key);
}

void WatchRegistry::TouchKey(std::string_view key) {
  std::lock_guard lock(mu_);
  TouchLocked(key);
}

void WatchRegistry::TouchLocked(std::string_view key) {
  auto it = watchers_.find(std::string(key));
  if (it == watchers_.end()) return;
  for (Watcher* watcher : it->second) watcher->dirty_.store(true, std::memory_order_release);
}

std::vector<std::string> WatchRegistry::WatchedKeys() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> keys;
  keys.reserve(watchers_.size());
  for (const auto& entry : watchers_) keys.push_back(entry.first);
  return keys;
}

}  // namespace tally::server
