#include "repo/pack_uploader.hpp"

namespace bkp::repo {

PackUploader::PackUploader(storage::Backend& backend, std::size_t max_queued, unsigned writers)
    : backend_(backend),
      max_queued_(std::max<std::size_t>(1, max_queued)),
      writers_(std::max(1u, writers)) {
  for (std::size_t i = 0; i < writers_; ++i) threads_.emplace_back([this] { work(); });
}

PackUploader::~PackUploader() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  job_ready_.notify_all();
  for (auto& t : threads_) t.join();
}

void PackUploader::submit(PackWriter& writer, const DataKey& key) {
  std::unique_lock lock(mu_);
  // busy_ counts the packs being written too: max_queued_ waiting plus
  // one per writer.
  slot_free_.wait(lock, [&] { return busy_ < max_queued_ + writers_; });
  ++busy_;
  queue_.push_back(Job{std::move(writer), key});
  writer = PackWriter{};
  job_ready_.notify_one();
}

std::vector<PackUploader::Stored> PackUploader::take(Wait wait) {
  std::unique_lock lock(mu_);
  if (wait == Wait::all) all_done_.wait(lock, [&] { return busy_ == 0; });
  std::vector<Stored> out;
  out.swap(done_);
  return out;
}

void PackUploader::work() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu_);
      job_ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued is written
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    auto finished = job.writer.finish(job.key);
    auto st = backend_.put(pack_object_name(finished.id), finished.bytes,
                           storage::WriteMode::create_only);
    // The name is the content's hash: an existing object is this very pack.
    if (!st && st.error().kind == util::ErrorKind::exists) st = {};
    {
      std::lock_guard lock(mu_);
      done_.push_back(Stored{finished.id, std::move(finished.blobs), std::move(st)});
      --busy_;
    }
    slot_free_.notify_one();
    all_done_.notify_all();
  }
}

}  // namespace bkp::repo
