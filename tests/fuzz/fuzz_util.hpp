// Shared bits of the fuzz targets: a failed invariant aborts, so libFuzzer
// records the input as a crash like any sanitizer report.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "util/bytes.hpp"
#include "util/result.hpp"
#include "util/secret.hpp"

namespace bkp::fuzz {

inline util::ByteView input(const std::uint8_t* data, std::size_t size) { return {data, size}; }

[[noreturn]] inline void fail_invariant(const char* what) {
  std::fprintf(stderr, "fuzz invariant violated: %s\n", what);
  std::abort();
}

inline void check(bool ok, const char* what) {
  if (!ok) fail_invariant(what);
}

// A rejected input must say why: every error carries a message.
template <class T>
void check_error(const util::Result<T>& r, const char* parser) {
  if (!r.ok() && r.error().message.empty()) {
    std::fprintf(stderr, "fuzz invariant violated: %s returned an error without a message\n",
                 parser);
    std::abort();
  }
}

// A fixed key (32 bytes counting up from `fill`), so runs are reproducible.
inline util::SecretBytes fixed_key(std::uint8_t fill) {
  util::SecretBytes k(32);
  for (std::size_t i = 0; i < k.size(); ++i) k.data()[i] = static_cast<std::uint8_t>(fill + i);
  return k;
}

}  // namespace bkp::fuzz
