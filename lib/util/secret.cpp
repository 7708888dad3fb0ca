#include "util/secret.hpp"

#include <sodium.h>

#include <cstring>
#include <new>
#include <utility>

namespace bkp::util {

void wipe(void* p, std::size_t n) { sodium_memzero(p, n); }

SecretBytes::SecretBytes(std::size_t size) : size_(size) {
  if (size_ == 0) return;
  data_ = new std::uint8_t[size_]();
  // Best effort: without CAP_IPC_LOCK and a large enough RLIMIT_MEMLOCK this
  // fails, and the wipe on release still holds.
  sodium_mlock(data_, size_);
}

SecretBytes::SecretBytes(ByteView in) : SecretBytes(in.size()) {
  if (size_) std::memcpy(data_, in.data(), size_);
}

SecretBytes::~SecretBytes() { release(); }

SecretBytes::SecretBytes(const SecretBytes& other) : SecretBytes(other.view()) {}

SecretBytes& SecretBytes::operator=(const SecretBytes& other) {
  if (this != &other) {
    SecretBytes copy(other);
    *this = std::move(copy);
  }
  return *this;
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void SecretBytes::release() {
  if (data_) {
    sodium_munlock(data_, size_);  // also zeroes
    sodium_memzero(data_, size_);
    delete[] data_;
  }
  data_ = nullptr;
  size_ = 0;
}

}  // namespace bkp::util
