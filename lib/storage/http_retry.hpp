// Retries for cloud requests: exponential backoff with jitter on transient
// failures (5xx, 429, 408, timeouts, resets, truncated bodies); never on
// auth errors or other 4xx, which only waste the user's time. Response
// statuses are turned into classified errors by http_error.hpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

#include "storage/http_client.hpp"

namespace bkp::storage::http {

struct RetryPolicy {
  int max_attempts = 6;  // the first try included
  std::chrono::milliseconds base_delay{200};
  std::chrono::milliseconds max_delay{20'000};
};

// True for the statuses a retry may cure: 408, 429 and 5xx except 501/505.
bool retryable_status(long status);

// The wait before retry number `retry` (1-based): "equal jitter", half of
// min(max_delay, base_delay * 2^(retry-1)) plus a random part of the other
// half chosen by `random`, so clients that failed together spread out.
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int retry, std::uint64_t random);

using Attempt = std::function<util::Result<Response>()>;
using Sleeper = std::function<void(std::chrono::milliseconds)>;

// Runs `attempt` until it yields a response with a non-retryable status or a
// non-transient error, or attempts run out; then returns the last outcome.
// A Retry-After header (seconds) on 429/503 lengthens the wait, capped at
// max_delay. `sleep` defaults to std::this_thread::sleep_for.
util::Result<Response> with_retries(const RetryPolicy& policy, const Attempt& attempt,
                                    const Sleeper& sleep = {});

}  // namespace bkp::storage::http
