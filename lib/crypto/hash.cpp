#include "crypto/hash.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <stdexcept>
#include <string>

#include "crypto/sodium_init.hpp"

namespace bkp::crypto {

namespace detail {

void ensure_sodium() {
  static const bool initialised = [] {
    // sodium_init returns 1 when already initialised elsewhere, -1 on failure
    // (no usable entropy source): nothing in bkp is safe without it.
    if (sodium_init() < 0) throw std::runtime_error("crypto: sodium_init failed");
    return true;
  }();
  (void)initialised;
}

}  // namespace detail

namespace {

void require(bool ok, const char* what) {
  // These only fail on allocation failure or misuse, both bugs here.
  if (!ok) throw std::runtime_error(std::string("hash: ") + what + " failed");
}

EVP_MD_CTX* as_ctx(void* p) { return static_cast<EVP_MD_CTX*>(p); }

}  // namespace

Digest keyed_hash(const util::SecretBytes& key, util::ByteView data) {
  detail::ensure_sodium();
  if (key.size() != crypto_generichash_KEYBYTES)
    throw std::invalid_argument("keyed_hash: key must be 32 bytes");
  Digest out{};
  require(crypto_generichash(out.data(), out.size(), data.data(), data.size(), key.data(),
                             key.size()) == 0,
          "crypto_generichash");
  return out;
}

Digest sha256(util::ByteView data) {
  Digest out{};
  unsigned int len = 0;
  require(EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) == 1,
          "EVP_Digest");
  require(len == out.size(), "EVP_Digest length");
  return out;
}

util::Bytes hmac_sha256(util::ByteView key, util::ByteView data) {
  util::Bytes out(EVP_MAX_MD_SIZE);
  unsigned int len = 0;
  // HMAC() with a null key pointer and zero length is fine, but pass a valid
  // pointer anyway: some OpenSSL versions reject a null key.
  static const std::uint8_t empty = 0;
  const std::uint8_t* k = key.empty() ? &empty : key.data();
  require(HMAC(EVP_sha256(), k, static_cast<int>(key.size()), data.data(), data.size(), out.data(),
               &len) != nullptr,
          "HMAC");
  out.resize(len);
  return out;
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  require(ctx_ != nullptr, "EVP_MD_CTX_new");
  require(EVP_DigestInit_ex(as_ctx(ctx_), EVP_sha256(), nullptr) == 1, "EVP_DigestInit_ex");
}

Sha256::~Sha256() { EVP_MD_CTX_free(as_ctx(ctx_)); }

void Sha256::update(util::ByteView data) {
  if (data.empty()) return;
  require(EVP_DigestUpdate(as_ctx(ctx_), data.data(), data.size()) == 1, "EVP_DigestUpdate");
}

Digest Sha256::finish() {
  Digest out{};
  unsigned int len = 0;
  require(EVP_DigestFinal_ex(as_ctx(ctx_), out.data(), &len) == 1, "EVP_DigestFinal_ex");
  // Re-arm so the object may be reused for another stream.
  require(EVP_DigestInit_ex(as_ctx(ctx_), EVP_sha256(), nullptr) == 1, "EVP_DigestInit_ex");
  return out;
}

void random_fill(std::uint8_t* p, std::size_t n) {
  detail::ensure_sodium();
  if (n) randombytes_buf(p, n);
}

util::Bytes random_bytes(std::size_t n) {
  util::Bytes out(n);
  random_fill(out.data(), n);
  return out;
}

util::SecretBytes random_secret(std::size_t n) {
  util::SecretBytes out(n);
  random_fill(out.data(), n);
  return out;
}

}  // namespace bkp::crypto
