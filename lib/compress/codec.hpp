// Per-chunk compression. A chunk that does not get smaller is stored as is
// (Codec::none), so already-compressed data costs no CPU on restore.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/bytes.hpp"
#include "util/result.hpp"

namespace bkp::compress {

// Stored in pack headers: values are part of the repository format.
enum class Codec : std::uint8_t { none = 0, zstd = 1, lz4 = 2 };

// The zstd level used when Spec::level is 0, chosen by measurement (see
// doc/compression.md). Changing it changes new chunks only; any level decodes.
inline constexpr int default_zstd_level = 2;
inline constexpr int min_zstd_level = 1;
inline constexpr int max_zstd_level = 19;
// Largest raw size decompress() accepts: raw sizes come from stored headers,
// and a hostile header must not make us allocate unbounded memory. Chunks
// are at most 8 MiB with the default chunker parameters.
inline constexpr std::size_t max_raw_size = 64 * 1024 * 1024;

struct Spec {
  Codec codec = Codec::zstd;
  int level = 0;  // 0 = the codec's default chosen for bkp (see doc/)
};

// Parses "zstd", "zstd:LEVEL", "lz4", "none" (usage error otherwise).
util::Result<Spec> parse_spec(std::string_view text);
std::string to_string(const Spec& spec);
std::string_view codec_name(Codec c);

// Compresses `in`; returns nullopt when the result would not be smaller,
// in which case the caller stores the raw bytes with Codec::none.
std::optional<util::Bytes> compress(const Spec& spec, util::ByteView in);
// The room compress_into() wants for `in_size` bytes (0 for Codec::none);
// with less, the codecs run slower or fail.
std::size_t compress_bound(const Spec& spec, std::size_t in_size);
// compress() into out[0, cap), for a caller that keeps its own buffer (no
// copy at exact size): the compressed size, or 0 when the result would not
// be smaller (store raw, Codec::none).
std::size_t compress_into(const Spec& spec, util::ByteView in, std::uint8_t* out, std::size_t cap);
// Decompresses to exactly `raw_size` bytes; anything else is
// ErrorKind::corrupt.
util::Result<util::Bytes> decompress(Codec codec, util::ByteView in, std::size_t raw_size);

}  // namespace bkp::compress
