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

void SealPool::submit(SealJob job) {
  std::unique_lock lock(mu_);
  if (in_flight_ > 0 && in_flight_bytes_ + job.data.size() > max_bytes_) {
    submitter_waiting_ = true;
    slot_free_.wait(lock, [&] { return in_flight_ == 0 || in_flight_bytes_ <= max_bytes_ / 2; });
    submitter_waiting_ = false;
  }
  ++in_flight_;
  in_flight_bytes_ += job.data.size();
  jobs_.push_back(std::move(job));
  job_ready_.notify_one();
}

std::vector<SealedBlob> SealPool::take(Wait wait) {
  std::unique_lock lock(mu_);
  if (wait == Wait::all) all_done_.wait(lock, [&] { return in_flight_ == 0; });
  std::vector<SealedBlob> out;
  out.swap(done_);
  return out;
}

void SealPool::work() {
  for (;;) {
    SealJob job;
    {
      std::unique_lock lock(mu_);
      job_ready_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    SealedBlob sealed = fn_(job);
    bool wake_submitter = false, all_done = false;
    {
      std::lock_guard lock(mu_);
      --in_flight_;
      in_flight_bytes_ -= job.data.size();
      done_.push_back(std::move(sealed));
      wake_submitter =
          submitter_waiting_ && (in_flight_ == 0 || in_flight_bytes_ <= max_bytes_ / 2);
      all_done = in_flight_ == 0;
    }
    if (wake_submitter) slot_free_.notify_one();
    if (all_done) all_done_.notify_all();
  }
}

}  // namespace bkp::repo
