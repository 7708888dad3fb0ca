#include "repo/seal_pool.hpp"

namespace bkp::repo {

SealPool::SealPool(unsigned threads, std::size_t max_in_flight_bytes, SealFn fn)
    : fn_(std::move(fn)), max_bytes_(std::max<std::size_t>(1, max_in_flight_bytes)) {
  for (unsigned i = 0; i < std::max(1u, threads); ++i) threads_.emplace_back([this] { work(); });
}

SealPool::~SealPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  job_ready_.notify_all();
  for (auto& t : threads_) t.join();
}

void SealPool::wake_if_due() {
  if (idle_workers_ > 0 && (queued_bytes_ >= wake_bytes || jobs_.size() >= wake_jobs))
    job_ready_.notify_one();
}

void SealPool::submit(SealJob job) {
  std::unique_lock lock(mu_);
  if (in_flight_ > 0 && in_flight_bytes_ + job.data.size() > max_bytes_) {
    // Whatever is queued must be worked on before this caller can go on.
    if (!jobs_.empty()) job_ready_.notify_all();
    submitter_waiting_ = true;
    slot_free_.wait(lock, [&] { return in_flight_ == 0 || in_flight_bytes_ <= max_bytes_ / 2; });
    submitter_waiting_ = false;
  }
  ++in_flight_;
  in_flight_bytes_ += job.data.size();
  queued_bytes_ += job.data.size();
  jobs_.push_back(std::move(job));
  wake_if_due();
}

std::vector<SealedBlob> SealPool::take(Wait wait) {
  std::vector<SealedBlob> out;
  if (wait == Wait::none && done_count_.load(std::memory_order_acquire) == 0) return out;
  std::unique_lock lock(mu_);
  if (wait == Wait::all) {
    // Jobs below the wake threshold may wait for an idle worker.
    if (!jobs_.empty()) job_ready_.notify_all();
    all_done_.wait(lock, [&] { return in_flight_ == 0; });
  }
  out.swap(done_);
  done_count_.store(0, std::memory_order_release);
  return out;
}

void SealPool::work() {
  for (;;) {
    SealJob job;
    {
      std::unique_lock lock(mu_);
      if (jobs_.empty() && !stopping_) {
        ++idle_workers_;
        job_ready_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
        --idle_workers_;
      }
      if (jobs_.empty()) return;  // stopping
      job = std::move(jobs_.front());
      jobs_.pop_front();
      queued_bytes_ -= job.data.size();
      // More work than this worker can take soon: let an idle one help.
      wake_if_due();
    }
    SealedBlob sealed = fn_(job);
    bool wake_submitter = false, all_done = false;
    {
      std::lock_guard lock(mu_);
      --in_flight_;
      in_flight_bytes_ -= job.data.size();
      done_.push_back(std::move(sealed));
      done_count_.store(done_.size(), std::memory_order_release);
      wake_submitter =
          submitter_waiting_ && (in_flight_ == 0 || in_flight_bytes_ <= max_bytes_ / 2);
      all_done = in_flight_ == 0;
    }
    if (wake_submitter) slot_free_.notify_one();
    if (all_done) all_done_.notify_all();
  }
}

}  // namespace bkp::repo
