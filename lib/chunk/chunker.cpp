// FastCDC (Xia et al., USENIX ATC 2016) with normalized chunking, level 2.
#include "chunk/chunker.hpp"

#include <bit>
#include <stdexcept>
#include <string>

#include "chunk/gear.hpp"

namespace bkp::chunk {
namespace {

constexpr std::size_t min_min_size = 64;
constexpr std::size_t max_max_size = 64 * 1024 * 1024;
// Normalization level: the mask before avg_size has this many bits more than
// log2(avg_size), the mask after it this many fewer. Level 2 is the paper's
// recommendation: chunk sizes cluster around avg_size without hurting dedup.
constexpr int normalization = 2;

// The gear hash h = (h << 1) + gear[byte] carries information upward, so bit
// k depends on the last k+1 bytes only. Masks take the top bits, which see the
// longest window (the lowest mask bit still covers about 40 bytes).
std::uint64_t top_bits_mask(int bits) { return ~std::uint64_t{0} << (64 - bits); }

}  // namespace

util::Status validate_params(const Params& p) {
  auto bad = [&](const std::string& why) {
    return util::fail(util::ErrorKind::corrupt, "chunker parameters (min " +
                                                    std::to_string(p.min_size) + ", avg " +
                                                    std::to_string(p.avg_size) + ", max " +
                                                    std::to_string(p.max_size) + "): " + why);
  };
  if (!std::has_single_bit(p.avg_size)) return bad("avg_size must be a power of two");
  if (p.min_size < min_min_size) return bad("min_size must be at least 64");
  if (p.min_size >= p.avg_size) return bad("min_size must be below avg_size");
  if (p.max_size < p.avg_size) return bad("max_size must be at least avg_size");
  if (p.max_size > max_max_size) return bad("max_size must be at most 64 MiB");
  return {};
}

Chunker::Chunker(const Params& params, util::ByteView seed) : params_(params) {
  if (auto st = validate_params(params); !st.ok()) throw std::invalid_argument(st.error().message);
  if (seed.size() != seed_size) throw std::invalid_argument("chunker seed must be 32 bytes");
  gear_ = detail::derive_gear(seed);
  const int bits = std::countr_zero(params.avg_size);
  mask_small_ = top_bits_mask(bits + normalization);
  mask_large_ = top_bits_mask(bits - normalization);
}

std::size_t Chunker::cut(util::ByteView data, bool final) const {
  const std::size_t n = data.size();
  if (n <= params_.min_size) return final ? n : 0;
  const std::size_t limit = n < params_.max_size ? n : params_.max_size;
  const std::size_t normal = limit < params_.avg_size ? limit : params_.avg_size;
  const std::uint8_t* p = data.data();
  const std::uint64_t* gear = gear_.data();
  const std::uint64_t ms = mask_small_, ml = mask_large_;
  // Hashing starts at min_size: no cut can fall before it, so the bytes
  // before it would be wasted work (the paper's "cut-point skipping").
  std::uint64_t h = 0;
  std::size_t i = params_.min_size;
  for (; i < normal; ++i) {
    h = (h << 1) + gear[p[i]];
    if ((h & ms) == 0) return i + 1;
  }
  for (; i < limit; ++i) {
    h = (h << 1) + gear[p[i]];
    if ((h & ml) == 0) return i + 1;
  }
  if (limit == params_.max_size) return limit;
  return final ? n : 0;
}

}  // namespace bkp::chunk
