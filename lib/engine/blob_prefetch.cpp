#include "engine/blob_prefetch.hpp"

#include <algorithm>

#include "util/interrupt.hpp"

namespace bkp::engine {

BlobPrefetcher::BlobPrefetcher(repo::Repository& repo, std::uint64_t max_ahead_bytes,
                               unsigned threads)
    : repo_(repo), max_ahead_(max_ahead_bytes) {
  if (threads == 0) {
    // Every core decodes; on an object store, more threads wait on requests.
    threads = std::max(std::clamp<unsigned>(std::thread::hardware_concurrency(), 1, 8),
                       std::min(repo.backend().parallel_reads(), 16u));
  }
  for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
}

BlobPrefetcher::~BlobPrefetcher() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  job_ready_.notify_all();
  for (auto& t : threads_) t.join();
}

void BlobPrefetcher::push(const repo::BlobLocation& loc) {
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    slots_.push_back(Slot{loc, std::nullopt});
    queued_bytes_ += loc.raw_length;
    wake = idle_workers_ > 0 && claimable();
  }
  if (wake) job_ready_.notify_one();
}

util::Result<util::Bytes> BlobPrefetcher::next() {
  // Restores take every chunk from here, on the thread that writes.
  BKP_TRY(util::check_interrupted());
  std::unique_lock lock(mu_);
  if (!slots_.front().result) {
    taker_waiting_ = true;
    result_ready_.wait(lock, [&] { return slots_.front().result.has_value(); });
    taker_waiting_ = false;
  }
  auto result = std::move(*slots_.front().result);
  queued_bytes_ -= slots_.front().loc.raw_length;
  claimed_bytes_ -= slots_.front().loc.raw_length;
  slots_.pop_front();
  --next_unclaimed_;
  bool wake = idle_workers_ > 0 && claimable();  // there may be room ahead again
  lock.unlock();
  if (wake) job_ready_.notify_all();
  return result;
}

std::uint64_t BlobPrefetcher::queued_bytes() const {
  std::lock_guard lock(mu_);
  return queued_bytes_;
}

std::size_t BlobPrefetcher::queued() const {
  std::lock_guard lock(mu_);
  return slots_.size();
}

bool BlobPrefetcher::claimable() const {
  // The oldest blob is always claimed, however large: the taker waits for
  // it.
  return next_unclaimed_ < slots_.size() && (next_unclaimed_ == 0 || claimed_bytes_ < max_ahead_);
}

void BlobPrefetcher::work() {
  std::unique_lock lock(mu_);
  for (;;) {
    if (!stopping_ && !claimable()) {
      ++idle_workers_;
      job_ready_.wait(lock, [&] { return stopping_ || claimable(); });
      --idle_workers_;
    }
    if (stopping_) return;
    // Slots only leave the front, and only once decoded, so the index of a
    // claimed slot moves down by one each time next() takes one: keep a
    // pointer instead (deque pointers survive push_back and pop_front of
    // other elements).
    Slot* slot = &slots_[next_unclaimed_++];
    auto loc = slot->loc;
    claimed_bytes_ += loc.raw_length;
    lock.unlock();
    auto result = repo_.load_blob_at(loc);
    lock.lock();
    slot->result = std::move(result);
    if (taker_waiting_ && slot == &slots_.front()) result_ready_.notify_one();
  }
}

}  // namespace bkp::engine
