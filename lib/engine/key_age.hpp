// Rotation by age (config key keys.rotate_after): a data key that has
// sealed new objects for longer than the limit is replaced by a new one,
// by the next command that may change keys (an admin slot's backup or
// prune), so that no key protects more than a bounded window of data.
#pragma once

#include <cstdint>
#include <optional>

#include "repo/repository.hpp"

namespace bkp::engine {

struct AgeRotation {
  repo::KeyId old_key{}, new_key{};
  std::int64_t age_ns = 0;  // of the old key when it was replaced
  std::uint64_t generation = 0;
};

// Rotates when the current data key is older than `max_age_ns` (> 0) and
// the slot in use may change keys; nullopt when nothing was due or the
// slot may not.
util::Result<std::optional<AgeRotation>> rotate_if_older(repo::Repository& repo,
                                                         std::int64_t max_age_ns,
                                                         std::int64_t now_ns);

}  // namespace bkp::engine
