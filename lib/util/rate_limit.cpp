#include "util/rate_limit.hpp"

#include <algorithm>
#include <thread>

namespace bkp::util {

RateLimiter::RateLimiter(std::uint64_t bytes_per_second, std::chrono::duration<double> burst)
    : rate_(std::max<std::uint64_t>(bytes_per_second, 1)),
      capacity_(std::max(double(rate_) * burst.count(), 65536.0)),
      tokens_(capacity_),
      last_(Clock::now()) {}

void RateLimiter::consume(std::uint64_t bytes) {
  std::chrono::duration<double> wait{0};
  {
    std::lock_guard lock(mutex_);
    auto now = Clock::now();
    std::chrono::duration<double> elapsed = now - last_;
    last_ = now;
    tokens_ = std::min(capacity_, tokens_ + elapsed.count() * double(rate_));
    // Spending ahead leaves the bucket in debt; the debt is the sleep. A
    // second reader arriving meanwhile sees the debt and sleeps longer.
    tokens_ -= double(bytes);
    if (tokens_ < 0) wait = std::chrono::duration<double>(-tokens_ / double(rate_));
  }
  if (wait.count() > 0) std::this_thread::sleep_for(wait);
}

}  // namespace bkp::util
