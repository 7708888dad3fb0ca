// Deterministic inputs and helpers shared by the chunker tests.
#pragma once

#include <algorithm>
#include <cstring>
#include <vector>

#include "chunk/chunker.hpp"
#include "util/bytes.hpp"

namespace bkp::test {

// xorshift64 byte stream: fixed forever, because golden chunk lengths are
// computed over it (doc/chunking.md has the same generator).
inline util::Bytes xorshift_bytes(std::size_t n, std::uint64_t x = 0x9E3779B97F4A7C15ull) {
  util::Bytes out(n + 8);
  for (std::size_t i = 0; i < n; i += 8) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    for (int b = 0; b < 8; ++b) out[i + b] = static_cast<std::uint8_t>(x >> (8 * b));
  }
  out.resize(n);
  return out;
}

inline util::Bytes seed_0_to_31() {
  util::Bytes s(32);
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<std::uint8_t>(i);
  return s;
}

// Chunk lengths of `data` cut from one in-memory buffer.
inline std::vector<std::size_t> cut_all(const chunk::Chunker& c, util::ByteView data) {
  std::vector<std::size_t> out;
  while (!data.empty()) {
    std::size_t n = c.cut(data, true);
    out.push_back(n);
    data = data.subspan(n);
  }
  return out;
}

// A ReadFn over a buffer that returns at most `step(i)` bytes on the i-th call.
template <class Step>
chunk::ReadFn buffer_reader(util::ByteView data, std::size_t& pos, Step step) {
  return [data, &pos, step, calls = std::size_t{0}](
             std::uint8_t* buf, std::size_t cap) mutable -> util::Result<std::size_t> {
    const std::size_t want = static_cast<std::size_t>(step(calls++));
    std::size_t n = std::min({cap, data.size() - pos, want});
    if (n) std::memcpy(buf, data.data() + pos, n);  // memcpy from null is UB even for 0 bytes
    pos += n;
    return n;
  };
}

}  // namespace bkp::test
