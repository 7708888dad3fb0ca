// Content-defined chunking (FastCDC with normalized chunking). The gear
// table is derived from a per-repository secret seed, so chunk boundaries do
// not leak content fingerprints across repositories. Also fixed-size
// blocks, for data that changes in place (database page files).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>

#include "util/bytes.hpp"
#include "util/result.hpp"

namespace bkp::chunk {

struct Params {
  std::size_t min_size = 512 * 1024;
  std::size_t avg_size = 1024 * 1024;  // a power of two
  std::size_t max_size = 8 * 1024 * 1024;
};

// Checks what the Chunker constructor requires: 64 <= min_size < avg_size <=
// max_size <= 64 MiB, avg_size a power of two. Parameters read from a
// repository should pass here first (ErrorKind::corrupt otherwise).
util::Status validate_params(const Params& params);

// Size of the seed the constructor takes.
inline constexpr std::size_t seed_size = 32;

class Chunker {
 public:
  // `seed` is 32 bytes of repository secret; the same seed and params give
  // the same boundaries forever (this is part of the repository format).
  // Invalid params or seed size are a bug: throws std::invalid_argument.
  Chunker(const Params& params, util::ByteView seed);

  // Length of the first chunk of `data`. When `final` is false and no
  // boundary lies within data (data shorter than max_size), returns 0:
  // supply more data. When `final` is true, always returns > 0 for non-empty
  // data (the rest becomes the last chunk).
  std::size_t cut(util::ByteView data, bool final) const;
  const Params& params() const { return params_; }

 private:
  Params params_;
  std::array<std::uint64_t, 256> gear_{};
  std::uint64_t mask_small_ = 0, mask_large_ = 0;
};

// Reads from `read` (returns bytes read, 0 at end, or an error) and calls
// `emit` with each chunk in order. Memory stays within about 2 * max_size.
using ReadFn = std::function<util::Result<std::size_t>(std::uint8_t* buf, std::size_t cap)>;
using EmitFn = std::function<util::Status(util::ByteView chunk)>;
util::Status chunk_stream(const Chunker& chunker, const ReadFn& read, const EmitFn& emit);
// The same with fixed-size blocks of `block_size` bytes (the last may be short;
// block_size 0 is ErrorKind::usage).
util::Status fixed_blocks(std::size_t block_size, const ReadFn& read, const EmitFn& emit);

}  // namespace bkp::chunk
