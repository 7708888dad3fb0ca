// A token bucket that limits how fast a backup reads its source, so that a
// backup on a production host leaves disk bandwidth to the database.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>

namespace bkp::util {

class RateLimiter {
 public:
  // `bytes_per_second` > 0. The bucket holds a tenth of a second's worth
  // (at least 64 KiB): short bursts pass, the average stays at the rate.
  explicit RateLimiter(std::uint64_t bytes_per_second);

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
