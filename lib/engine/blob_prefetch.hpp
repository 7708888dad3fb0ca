// Reads and decodes blobs on worker threads ahead of the caller, who takes
// them back in the order they were asked for. Restore uses it so every core
// decrypts, decompresses and checks chunks while one thread writes files.
//
// Reads are coalesced: a worker that claims the oldest blob not yet claimed
// also claims the queued blobs of the same pack near it (repo::plan_reads),
// and fetches them all with one ranged request. A restore asks for chunks in
// the order the backup wrote them, so on an object store a whole run of a
// pack comes in one request instead of one per chunk. So that there is a
// run to join, workers wait until a full request's worth (max_span of
// sealed bytes) is queued unclaimed, or the taker waits for a blob: the
// first pushes are not each read alone by idle workers.
//
// Memory: workers stop claiming once max_ahead_bytes of plaintext are
// claimed and not yet taken (the oldest blob is always claimed, however
// large), and each worker holds at most one request's sealed bytes
// (ReadLimits::max_span, or one blob larger than that). So at most
// max_ahead_bytes + threads * max_span, plus the queue of locations, which
// the caller bounds (restore: 64 MiB of plaintext queued).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "repo/read_plan.hpp"
#include "repo/repository.hpp"

namespace bkp::engine {

class BlobPrefetcher {
 public:
  // `threads` = 0: one per core (at most 8), or the backend's parallel_reads()
  // when that is more. `limits`: how reads of one pack are joined; by default
  // kLocalReadLimits on local disk and kRemoteReadLimits elsewhere.
  explicit BlobPrefetcher(repo::Repository& repo, std::uint64_t max_ahead_bytes = 32 << 20,
                          unsigned threads = 0, std::optional<repo::ReadLimits> limits = {});
  ~BlobPrefetcher();
  BlobPrefetcher(const BlobPrefetcher&) = delete;
  BlobPrefetcher& operator=(const BlobPrefetcher&) = delete;

  // Queues one blob; never blocks.
  void push(const repo::BlobLocation& loc);
  // Queues blobs in order, all at once: a worker woken halfway through a
  // run of single pushes claimed only the part pushed so far, and read the
  // rest of the same pack span in another request.
  void push(std::span<const repo::BlobLocation> locs);
  // The oldest queued blob, decoded (or why it could not be); blocks until
  // it is ready. Only call with something queued.
  util::Result<util::Bytes> next();
  // Plaintext bytes queued or decoded and not yet taken by next().
  std::uint64_t queued_bytes() const;
  std::size_t queued() const;
  // Ranged requests made so far (each read of one or more blobs), for tests
  // and measurements.
  std::uint64_t reads() const;

 private:
  struct Slot {
    repo::BlobLocation loc;
    bool claimed = false;
    std::optional<util::Result<util::Bytes>> result;
  };
  void work();
  bool claimable() const;  // with mu_ held
  struct Group {
    repo::ByteRange span;      // of the pack, holding every slot's blob
    std::vector<Slot*> slots;  // in queue order
  };
  // With mu_ held: claims the slot at first_unclaimed_ and the unclaimed
  // slots of the same pack that one request can read with it.
  Group claim_group();
  void read_group(const Group& group);
  void publish(Slot* slot, util::Result<util::Bytes> result);

  repo::Repository& repo_;
  mutable std::mutex mu_;
  std::uint64_t max_ahead_;
  repo::ReadLimits limits_;
  std::condition_variable job_ready_, result_ready_;
  // Every blob not yet taken, oldest first.
  std::deque<Slot> slots_;
  // Slots before this index are all claimed (taken slots leave the front).
  std::size_t first_unclaimed_ = 0;
  std::uint64_t queued_bytes_ = 0;
  std::uint64_t claimed_bytes_ = 0;     // of slots being or done decoding
  std::uint64_t unclaimed_sealed_ = 0;  // stored bytes of unclaimed slots
  std::atomic<std::uint64_t> reads_{0};
  // Waiting threads, so that nobody is woken for nothing (a futex call per
  // chunk and thread otherwise).
  unsigned idle_workers_ = 0;
  bool taker_waiting_ = false;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace bkp::engine
