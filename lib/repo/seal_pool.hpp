// Compression and encryption of blobs on worker threads, so a backup uses
// every core: the caller reads, chunks and hashes; workers compress and
// seal; the caller collects sealed blobs into packs. The queue is bounded
// in bytes, so memory stays within max_in_flight_bytes of chunks.
//
// Idle workers are woken in batches, not per job: a tree of small files
// gives a 10 KiB job every few microseconds, and waking a worker for each
// cost two futex calls and two context switches per file (248k futex calls
// in a first backup of 66k files).
#pragma once

#include <atomic>
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
  SealPool(unsigned threads, std::size_t max_in_flight_bytes, SealFn fn);
  ~SealPool();
  SealPool(const SealPool&) = delete;
  SealPool& operator=(const SealPool&) = delete;

  // Blocks while max_in_flight_bytes are queued or being sealed; once it
  // blocks, it waits until half of that is done (a waiting caller woken for
  // every blob was a context switch per chunk). A job larger than the bound
  // still runs, alone. An idle worker is woken once wake_bytes or
  // wake_jobs wait in the queue (or when the caller blocks or waits for
  // all); a working one takes jobs until the queue is empty.
  void submit(SealJob job);
  static constexpr std::size_t wake_bytes = 1u << 20;
  static constexpr std::size_t wake_jobs = 64;
  // The blobs sealed so far; with Wait::all, first waits for every job.
  enum class Wait { none, all };
  std::vector<SealedBlob> take(Wait wait);

 private:
  void work();
  // Called with mu_ held: wakes an idle worker if the queue is worth it.
  void wake_if_due();
  SealFn fn_;
  std::size_t max_bytes_;
  std::mutex mu_;
  std::condition_variable job_ready_, slot_free_, all_done_;
  std::deque<SealJob> jobs_;
  std::vector<SealedBlob> done_;
  std::size_t in_flight_ = 0;        // jobs queued + running
  std::size_t in_flight_bytes_ = 0;  // their data
  std::size_t queued_bytes_ = 0;     // data of the jobs not yet taken by a worker
  unsigned idle_workers_ = 0;
  // done_.size(), readable without the lock: take(Wait::none), called for
  // every blob, returns at once when nothing is done.
  std::atomic<std::size_t> done_count_{0};
  bool submitter_waiting_ = false;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace bkp::repo
