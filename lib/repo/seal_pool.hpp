// Compression and encryption of blobs on worker threads, so a backup uses
// every core: the caller reads, chunks and hashes; workers compress and
// seal; the caller collects sealed blobs into packs and does all I/O. The
// queue is bounded, so memory stays within max_in_flight chunks.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "repo/pack.hpp"

namespace bkp::repo {

struct SealJob {
  BlobType type = BlobType::data;
  BlobId id{};
  util::Bytes data;
};

struct SealedBlob {
  BlobType type = BlobType::data;
  BlobId id{};
  util::Bytes sealed;
  std::uint32_t raw_length = 0;
};

class SealPool {
 public:
  using SealFn = std::function<SealedBlob(const SealJob&)>;
  SealPool(unsigned threads, std::size_t max_in_flight, SealFn fn);
  ~SealPool();
  SealPool(const SealPool&) = delete;
  SealPool& operator=(const SealPool&) = delete;

  // Blocks while max_in_flight jobs are queued or running.
  void submit(SealJob job);
  // The blobs sealed so far; with Wait::all, first waits for every job.
  enum class Wait { none, all };
  std::vector<SealedBlob> take(Wait wait);

 private:
  void work();
  SealFn fn_;
  std::size_t max_in_flight_;
  std::mutex mu_;
  std::condition_variable job_ready_, slot_free_, all_done_;
  std::deque<SealJob> jobs_;
  std::vector<SealedBlob> done_;
  std::size_t in_flight_ = 0;  // queued + running
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace bkp::repo
