// SecretBytes: key material and passphrases. Locked in memory where the
// system allows it and wiped on destruction, so secrets do not linger.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "util/bytes.hpp"

namespace bkp::util {

class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::size_t size);
  explicit SecretBytes(ByteView data);
  ~SecretBytes();
  SecretBytes(const SecretBytes& other);
  SecretBytes& operator=(const SecretBytes& other);
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;

  std::uint8_t* data() { return data_; }
  const std::uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  ByteView view() const { return {data_, size_}; }
  std::string_view chars() const { return {reinterpret_cast<const char*>(data_), size_}; }

 private:
  void release();
  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

// Overwrites memory in a way the compiler may not optimise out.
void wipe(void* p, std::size_t n);

}  // namespace bkp::util
