#include "storage/http_retry.hpp"

#include <algorithm>
#include <random>
#include <thread>

#include "util/text.hpp"

namespace bkp::storage::http {

bool retryable_status(long status) {
  if (status == 408 || status == 429) return true;
  return status >= 500 && status <= 599 && status != 501 && status != 505;
}

std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int retry,
                                        std::uint64_t random) {
  using ms = std::chrono::milliseconds;
  const auto max = std::max<std::int64_t>(policy.max_delay.count(), 1);
  std::int64_t cap = std::max<std::int64_t>(policy.base_delay.count(), 1);
  for (int i = 1; i < retry && cap < max; ++i) cap *= 2;
  cap = std::min(cap, max);
  const std::int64_t half = cap / 2;
  return ms(half + static_cast<std::int64_t>(random % static_cast<std::uint64_t>(cap - half + 1)));
}

namespace {

std::chrono::milliseconds retry_after(const Response& response) {
  auto value = response.header("retry-after");
  if (!value) return std::chrono::milliseconds(0);
  // Delay-seconds only; the HTTP-date form (and anything else) means no
  // floor, the backoff alone.
  auto seconds = util::parse_number<long>(*value);
  if (!seconds || *seconds < 0) return std::chrono::milliseconds(0);
  return std::chrono::seconds(std::min(*seconds, 3600L));
}

}  // namespace

util::Result<Response> with_retries(const RetryPolicy& policy, const Attempt& attempt,
                                    const Sleeper& sleep) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const int attempts = std::max(policy.max_attempts, 1);
  for (int n = 1;; ++n) {
    util::Result<Response> outcome = attempt();
    std::chrono::milliseconds floor{0};
    if (outcome.ok()) {
      if (!retryable_status(outcome->status)) return outcome;
      floor = std::min(retry_after(*outcome), policy.max_delay);
    } else if (outcome.error().kind != util::ErrorKind::transient) {
      return outcome;
    }
    if (n >= attempts) return outcome;
    auto wait = std::max(floor, backoff_delay(policy, n, rng()));
    if (sleep) {
      sleep(wait);
    } else {
      std::this_thread::sleep_for(wait);
    }
  }
}

}  // namespace bkp::storage::http
