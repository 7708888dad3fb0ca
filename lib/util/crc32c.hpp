// CRC-32C (Castagnoli), the checksum PostgreSQL's backup manifests use by
// default: a base backup's files are checked against it as they stream by.
#pragma once

#include <cstddef>
#include <cstdint>

namespace bkp::util {

class Crc32c {
 public:
  void update(const std::uint8_t* data, std::size_t size);
  std::uint32_t value() const { return ~state_; }

 private:
  std::uint32_t state_ = 0xFFFFFFFFu;
};

}  // namespace bkp::util
