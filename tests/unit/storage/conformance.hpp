// The behaviour every storage backend must show, as one reusable Catch2
// suite: local disk runs it now, S3, Azure and GCS will run the same. It
// only uses the Backend interface, never the medium behind it.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>

#include "storage/backend.hpp"

namespace bkp::test {

using BackendFactory = std::function<std::unique_ptr<storage::Backend>()>;

struct ConformanceOptions {
  // Size of the large round-trip object (a pack is tens of MiB).
  std::size_t large_object_size = std::size_t{64} << 20;
  // Objects written for the listing test; above 1000 it crosses the page
  // size of the S3, Azure and GCS list APIs.
  std::size_t many_objects = 2500;
};

// Call from inside a TEST_CASE. The suite is made of SECTIONs, so Catch runs
// the enclosing TEST_CASE once per section: create fresh state in the
// TEST_CASE body (a new TempDir, a new bucket prefix). `make` is called once
// per section and must return a backend over an empty namespace (the suite
// checks that list("") is empty); objects written are left for the caller's
// state to discard.
void run_backend_conformance(const BackendFactory& make, const ConformanceOptions& options = {});

}  // namespace bkp::test
