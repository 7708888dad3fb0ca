// Bandwidth limits for backends that do not go through libcurl (local
// disk): a decorator that charges each object's bytes to a token bucket
// per direction (util::RateLimiter, a burst of one second), shared by
// every thread. (HTTP backends use libcurl's own per-transfer limits
// instead; see http_client.hpp.)
#pragma once

#include <memory>

#include "storage/backend.hpp"
#include "util/rate_limit.hpp"

namespace bkp::storage {

// Wraps `inner` so that put() charges the upload bucket before writing and
// get(), get_into() and get_range() charge the download bucket after
// reading. A null bucket means no limit in that direction.
std::unique_ptr<Backend> rate_limited(std::unique_ptr<Backend> inner,
                                      std::shared_ptr<util::RateLimiter> upload,
                                      std::shared_ptr<util::RateLimiter> download);

}  // namespace bkp::storage
