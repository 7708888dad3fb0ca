// The FastCDC gear table, derived from the repository's chunker seed.
#pragma once

#include <array>
#include <cstdint>

#include "util/bytes.hpp"

namespace bkp::chunk::detail {

// gear[i] = first 8 bytes (little-endian) of
//   BLAKE2b(key = seed, message = "bkp-fastcdc-gear" || i (1 byte), out = 16)
// This is part of the repository format (see doc/chunking.md).
std::array<std::uint64_t, 256> derive_gear(util::ByteView seed);

}  // namespace bkp::chunk::detail
