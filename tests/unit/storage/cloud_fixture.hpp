// What the storage tests against real servers (moto, Azurite, the GCS
// double) share: a fresh place in the bucket per test, opening a backend or
// failing the test, and the large-object check every multipart or block
// upload must pass.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "storage/backend.hpp"

namespace bkp::test {

// "<scheme><bucket>/run-N-<clock>": a prefix no earlier test or run used.
std::string fresh_location(std::string_view scheme, std::string_view bucket);

// storage::open_backend, or the test fails with its message.
std::unique_ptr<storage::Backend> open_or_fail(const std::string& location,
                                               const storage::BackendOptions& options);

// An object of `size` bytes, which the backend must upload in parts
// (multipart upload, blocks): create-only refuses it twice once it exists,
// it reads back whole, a range across `part_boundary` reads back exact, and
// an overwrite in parts, shorter, replaces it whole.
void check_large_object(storage::Backend& backend, std::size_t size, std::size_t part_boundary);

}  // namespace bkp::test
