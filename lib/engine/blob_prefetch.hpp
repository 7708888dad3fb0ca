// Reads and decodes blobs on worker threads ahead of the caller, who takes
// them back in the order they were asked for. Restore uses it so every core
// decrypts, decompresses and checks chunks while one thread writes files.
// Workers stop reading ahead once max_ahead_bytes of plaintext wait to be
// taken, so memory stays bounded however much is queued.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "repo/repository.hpp"

namespace bkp::engine {

class BlobPrefetcher {
 public:
  // `threads` = 0: one per core (at most 8), or the backend's parallel_reads()
  // when that is more.
  explicit BlobPrefetcher(repo::Repository& repo, std::uint64_t max_ahead_bytes = 32 << 20,
                          unsigned threads = 0);
  ~BlobPrefetcher();
  BlobPrefetcher(const BlobPrefetcher&) = delete;
  BlobPrefetcher& operator=(const BlobPrefetcher&) = delete;

  // Queues one blob; never blocks.
  void push(const repo::BlobLocation& loc);
  // The oldest queued blob, decoded (or why it could not be); blocks until
  // it is ready. Only call with something queued.
  util::Result<util::Bytes> next();
  // Plaintext bytes queued or decoded and not yet taken by next().
  std::uint64_t queued_bytes() const;
  std::size_t queued() const;

 private:
  struct Slot {
    repo::BlobLocation loc;
    std::optional<util::Result<util::Bytes>> result;
  };
  void work();
  bool claimable() const;  // with mu_ held

  repo::Repository& repo_;
  mutable std::mutex mu_;
  std::uint64_t max_ahead_;
  std::condition_variable job_ready_, result_ready_;
  // Every blob not yet taken, oldest first; workers claim them in order.
  std::deque<Slot> slots_;
  std::size_t next_unclaimed_ = 0;  // index into slots_
  std::uint64_t queued_bytes_ = 0;
  std::uint64_t claimed_bytes_ = 0;  // of slots being or done decoding
  // Waiting threads, so that nobody is woken for nothing (a futex call per
  // chunk and thread otherwise).
  unsigned idle_workers_ = 0;
  bool taker_waiting_ = false;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace bkp::engine
