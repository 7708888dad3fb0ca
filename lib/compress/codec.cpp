#include "compress/codec.hpp"

#include <lz4.h>
#include <zstd.h>

#include <algorithm>
#include <memory>

#include "util/text.hpp"

namespace bkp::compress {
namespace {

using util::ErrorKind;

struct CCtxFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxFree {
  void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
};

// Contexts are reused per thread: creating one per 1 MiB chunk costs
// allocations of several MiB and is measurable at these speeds.
ZSTD_CCtx* cctx() {
  thread_local std::unique_ptr<ZSTD_CCtx, CCtxFree> ctx(ZSTD_createCCtx());
  return ctx.get();
}
ZSTD_DCtx* dctx() {
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxFree> ctx(ZSTD_createDCtx());
  return ctx.get();
}

int effective_level(int level) {
  if (level == 0) return default_zstd_level;
  if (level < min_zstd_level) return min_zstd_level;
  if (level > max_zstd_level) return max_zstd_level;
  return level;
}

util::Unexpected usage_error(std::string_view text) {
  return util::fail(ErrorKind::usage, "invalid compression '" + std::string(text) +
                                          "': expected one of zstd, zstd:LEVEL (LEVEL 1-19), "
                                          "lz4, none");
}

util::Unexpected corrupt(std::string_view codec, std::string what) {
  return util::fail(ErrorKind::corrupt,
                    "decompressing " + std::string(codec) + " chunk: " + std::move(what));
}

}  // namespace

util::Result<Spec> parse_spec(std::string_view text) {
  if (text == "none") return Spec{Codec::none, 0};
  if (text == "lz4") return Spec{Codec::lz4, 0};
  if (text == "zstd") return Spec{Codec::zstd, 0};
  constexpr std::string_view prefix = "zstd:";
  if (!text.starts_with(prefix)) return usage_error(text);
  const std::string_view digits = text.substr(prefix.size());
  const auto level = util::parse_number<int>(digits);
  // A signed number may start with '-'; levels are plain positive numbers.
  if (!level || digits.front() == '-' || *level < min_zstd_level || *level > max_zstd_level)
    return usage_error(text);
  return Spec{Codec::zstd, *level};
}

std::string to_string(const Spec& spec) {
  std::string out(codec_name(spec.codec));
  if (spec.codec == Codec::zstd && spec.level != 0) {
    // Two appends: GCC 12 at -O3 warns (-Wrestrict, a false positive) on
    // ":" + std::to_string(...).
    out += ':';
    out += std::to_string(spec.level);
  }
  return out;
}

std::string_view codec_name(Codec c) {
  switch (c) {
    case Codec::none:
      return "none";
    case Codec::zstd:
      return "zstd";
    case Codec::lz4:
      return "lz4";
  }
  return "unknown";
}

std::size_t compress_bound(const Spec& spec, std::size_t in_size) {
  switch (spec.codec) {
    case Codec::zstd:
      return ZSTD_compressBound(in_size);
    case Codec::lz4:
      if (in_size > static_cast<std::size_t>(LZ4_MAX_INPUT_SIZE)) return 0;
      return static_cast<std::size_t>(LZ4_compressBound(static_cast<int>(in_size)));
    default:
      return 0;
  }
}

std::size_t compress_into(const Spec& spec, util::ByteView in, std::uint8_t* out, std::size_t cap) {
  if (in.size() < 2) return 0;  // nothing can be smaller
  std::size_t n = 0;
  switch (spec.codec) {
    case Codec::zstd: {
      const std::size_t r =
          ZSTD_compressCCtx(cctx(), out, cap, in.data(), in.size(), effective_level(spec.level));
      if (ZSTD_isError(r)) return 0;
      n = r;
      break;
    }
    case Codec::lz4: {
      if (in.size() > static_cast<std::size_t>(LZ4_MAX_INPUT_SIZE)) return 0;
      const int limit = static_cast<int>(std::min<std::size_t>(cap, LZ4_MAX_INPUT_SIZE));
      const int r =
          LZ4_compress_default(reinterpret_cast<const char*>(in.data()),
                               reinterpret_cast<char*>(out), static_cast<int>(in.size()), limit);
      if (r <= 0) return 0;
      n = static_cast<std::size_t>(r);
      break;
    }
    default:
      return 0;
  }
  return n < in.size() ? n : 0;
}

std::optional<util::Bytes> compress(const Spec& spec, util::ByteView in) {
  // Both codecs run faster with a worst-case-sized output buffer (see
  // zstd.h, lz4.h); a per-thread scratch buffer provides it, and the result
  // is copied out at its exact size so callers hold no slack memory.
  thread_local util::Bytes scratch;
  const std::size_t bound = compress_bound(spec, in.size());
  if (bound == 0) return std::nullopt;
  if (scratch.size() < bound) scratch.resize(bound);
  const std::size_t n = compress_into(spec, in, scratch.data(), bound);
  if (n == 0) return std::nullopt;
  return util::Bytes(scratch.begin(), scratch.begin() + static_cast<std::ptrdiff_t>(n));
}

util::Result<util::Bytes> decompress(Codec codec, util::ByteView in, std::size_t raw_size) {
  const std::string_view name = codec_name(codec);
  if (raw_size > max_raw_size)
    return corrupt(name, "raw size " + std::to_string(raw_size) + " exceeds the limit of " +
                             std::to_string(max_raw_size) + " bytes");
  switch (codec) {
    case Codec::none:
      if (in.size() != raw_size)
        return corrupt(name, "stored size " + std::to_string(in.size()) + " differs from " +
                                 std::to_string(raw_size));
      return util::Bytes(in.begin(), in.end());
    case Codec::zstd: {
      util::Bytes out(raw_size);
      const std::size_t r =
          ZSTD_decompressDCtx(dctx(), out.data(), out.size(), in.data(), in.size());
      if (ZSTD_isError(r)) return corrupt(name, ZSTD_getErrorName(r));
      if (r != raw_size)
        return corrupt(
            name, "decoded " + std::to_string(r) + " bytes, expected " + std::to_string(raw_size));
      return out;
    }
    case Codec::lz4: {
      // LZ4's API takes int sizes; max_raw_size keeps raw_size in range.
      if (in.size() > static_cast<std::size_t>(LZ4_MAX_INPUT_SIZE))
        return corrupt(name, "input too large");
      util::Bytes out(raw_size);
      const int r = LZ4_decompress_safe(reinterpret_cast<const char*>(in.data()),
                                        reinterpret_cast<char*>(out.data()),
                                        static_cast<int>(in.size()), static_cast<int>(raw_size));
      if (r < 0) return corrupt(name, "malformed input");
      if (static_cast<std::size_t>(r) != raw_size)
        return corrupt(
            name, "decoded " + std::to_string(r) + " bytes, expected " + std::to_string(raw_size));
      return out;
    }
  }
  return util::fail(ErrorKind::corrupt, "decompressing chunk: unknown codec " +
                                            std::to_string(static_cast<unsigned>(codec)));
}

}  // namespace bkp::compress
