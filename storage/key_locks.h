// Striped key locks: read-modify-write operations hold the stripes of their
// keys across the read and the write, so two operations on one key never
// interleave while operations on different keys rarely wait for each other.
// A fixed stripe array (no per-key allocation) keeps memory constant however
// many keys exist.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <mutex>
#include <string_view>
#include <vector>

namespace tally::storage {

class KeyLocks {
 public:
  static constexpr size_t kStripes = 1024;

  // Holds a set of stripes until destroyed. Movable (like std::unique_lock)
  // so that an operation can decide at run time whether it locks at all: a
  // default-constructed or moved-from guard holds nothing.
  class Guard {
   public:
    Guard() = default;
    Guard(Guard&& other) noexcept;
    Guard& operator=(Guard&& other) noexcept;
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
    ~Guard();

   private:
    friend class KeyLocks;
    Guard(KeyLocks* locks, size_t stripe);
    Guard(KeyLocks* locks, std::vector<size_t> stripes);
    void Release();

    KeyLocks* locks_ = nullptr;
    // One key's stripe is held without a vector, so locking a single key (every
    // INCR) allocates nothing; several are in `stripes_`, ascending: the order
    // they were locked in.
    size_t stripe_ = 0;
    std::vector<size_t> stripes_;
  };

  Guard Lock(std::string_view key);
  // Locks the stripes of all keys in ascending stripe order, each once, so
  // two multi-key operations can never deadlock.
  Guard Lock(const std::vector<std::string_view>& keys);
  // Every stripe: no read-modify-write can run until the guard is gone.
  Guard LockAll();

  // A set of stripes gathered one operation at a time and held across many
  // (a write group: keyspace.h, GroupScope). Ordered locking is impossible
  // there, so the set never waits while it holds anything: TryAdd fails
  // instead, and the owner must release everything before it may Add (wait).
  class HeldSet {
   public:
    explicit HeldSet(KeyLocks* locks) : locks_(locks) {}
    HeldSet(const HeldSet&) = delete;
    HeldSet& operator=(const HeldSet&) = delete;
    ~HeldSet() { ReleaseAll(); }

    bool empty() const { return held_.empty(); }
    // Whether another thread has waited for one of the stripes held since
    // the set last released them: the holder should release soon.
    bool wanted() const { return wanted_.load(std::memory_order_relaxed); }
    bool Holds(size_t stripe) const { return member_[stripe]; }
    // Takes `stripe` unless another thread holds it; true if it is now held.
    bool TryAdd(size_t stripe);
    // Waits for `stripe`; only while the set is empty or for stripes above
    // every one it holds (ordered locking, which cannot deadlock).
    void Add(size_t stripe);
    void ReleaseAll();

   private:
    friend class KeyLocks;
    KeyLocks* locks_;
    std::vector<size_t> held_;
    std::array<bool, kStripes> member_{};
    std::atomic<bool> wanted_{false};
  };

  // Takes the stripes of all keys without waiting, except those `held`
  // (nullable) holds already: true and *guard holding them, or false and
  // nothing held if another thread has one. For reads that want a stable
  // view of several keys but have a fallback.
  bool TryLock(const std::vector<std::string_view>& keys, const HeldSet* held, Guard* guard);

  static size_t StripeOf(std::string_view key);

 private:
  // Padded to a cache line so neighbouring stripes do not share one.
  struct alignas(64) Stripe {
    std::mutex mutex;
    // The HeldSet holding the stripe, if one does (they live as long as the
    // locks), so that a waiter can tell it that it is wanted.
    std::atomic<HeldSet*> holder{nullptr};
  };
  // Locks one stripe, first telling a HeldSet holding it that it is wanted.
  void LockStripe(size_t stripe);
  Guard LockSorted(std::vector<size_t> stripes);

  std::array<Stripe, kStripes> stripes_;
};

}  // namespace tally::storage
