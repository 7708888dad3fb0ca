// A token bucket: how fast a backup reads its source (--limit-rate, so that
// a backup on a production host leaves disk bandwidth to the database), and
// how fast local storage is written and read (--limit-upload/-download).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>

namespace bkp::util {

class RateLimiter {
 public:
  // `bytes_per_second` > 0. The bucket starts full and holds `burst`'s
  // worth (at least 64 KiB): short bursts pass, the average stays at the
  // rate. A tenth of a second suits reads of a source, chunk by chunk; a
  // second suits whole objects of storage.
  explicit RateLimiter(std::uint64_t bytes_per_second,
                       std::chrono::duration<double> burst = std::chrono::milliseconds(100));

  // Accounts for `bytes` just read and sleeps as long as the reader is
  // ahead of the rate. Thread-safe: readers share one budget.
  void consume(std::uint64_t bytes);

  std::uint64_t rate() const { return rate_; }

 private:
  using Clock = std::chrono::steady_clock;
  std::mutex mutex_;
  std::uint64_t rate_;
  double capacity_;
  double tokens_;
  Clock::time_point last_;
};

}  // namespace bkp::util
