#include <catch2/catch.hpp>

#include <string>

#include "util/crc32c.hpp"

using bkp::util::Crc32c;

namespace {

std::uint32_t crc_of(const std::string& s, std::size_t split = 0) {
  Crc32c c;
  auto* p = reinterpret_cast<const std::uint8_t*>(s.data());
  c.update(p, split);
  c.update(p + split, s.size() - split);
  return c.value();
}

}  // namespace

TEST_CASE("CRC-32C: the standard check value, in any split", "[crc32c]") {
  CHECK(Crc32c().value() == 0);
  CHECK(crc_of("123456789") == 0xE3069283u);
  for (std::size_t split = 0; split <= 9; ++split) CHECK(crc_of("123456789", split) == 0xE3069283u);
  // RFC 3720 B.4: 32 bytes of zeros, of 0xFF.
  CHECK(crc_of(std::string(32, '\0')) == 0x8A9136AAu);
  CHECK(crc_of(std::string(32, '\xFF')) == 0x62A8AB43u);
  std::string ascending;
  for (int i = 0; i < 32; ++i) ascending += char(i);
  CHECK(crc_of(ascending, 13) == 0x46DD794Eu);
}
