#include "chunk/gear.hpp"

#include <sodium.h>

#include <stdexcept>
#include <string_view>

namespace bkp::chunk::detail {

std::array<std::uint64_t, 256> derive_gear(util::ByteView seed) {
  // BLAKE2b does not depend on sodium_init (it only picks a faster
  // implementation), but initialise anyway in case this is the first use.
  if (sodium_init() < 0) throw std::runtime_error("chunk: sodium_init failed");
  constexpr std::string_view label = "bkp-fastcdc-gear";
  std::array<std::uint64_t, 256> gear{};
  for (std::size_t i = 0; i < gear.size(); ++i) {
    util::Bytes msg = util::to_bytes(label);
    msg.push_back(static_cast<std::uint8_t>(i));
    std::uint8_t out[16];
    if (crypto_generichash(out, sizeof out, msg.data(), msg.size(), seed.data(), seed.size()) != 0)
      throw std::runtime_error("chunk: crypto_generichash failed");
    gear[i] = util::get_u64le(out);
  }
  return gear;
}

}  // namespace bkp::chunk::detail
