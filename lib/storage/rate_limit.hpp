// Bandwidth limits for backends that do not go through libcurl (local
// disk): a token bucket per direction, shared by every thread, and a
// decorator that charges each object's bytes to it. (HTTP backends use
// libcurl's own per-transfer limits instead; see http_client.hpp.)
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>

#include "storage/backend.hpp"

namespace bkp::storage {

// `rate` bytes per second with a burst of one second's worth: a transfer of
// N bytes on an idle bucket returns after about N/rate - 1 seconds.
class TokenBucket {
 public:
  explicit TokenBucket(std::uint64_t rate);
  // Takes `bytes` from the bucket, sleeping as long as it runs into debt.
  // Several threads share the rate: each waits for its own share.
  void take(std::uint64_t bytes);

 private:
  using Clock = std::chrono::steady_clock;
  const double rate_;
  std::mutex mutex_;
  double tokens_;  // may go negative: the debt the caller sleeps off
  Clock::time_point last_;
};

// Wraps `inner` so that put() charges the upload bucket before writing and
// get(), get_into() and get_range() charge the download bucket after
// reading. A null bucket means no limit in that direction.
std::unique_ptr<Backend> rate_limited(std::unique_ptr<Backend> inner,
                                      std::shared_ptr<TokenBucket> upload,
                                      std::shared_ptr<TokenBucket> download);

}  // namespace bkp::storage
