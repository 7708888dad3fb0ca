#include "crypto/aead.hpp"

#include <openssl/evp.h>

#include <cstring>
#include <limits>
#include <memory>
#include <stdexcept>

#include "crypto/aead_testing.hpp"
#include "crypto/hash.hpp"

namespace bkp::crypto {
namespace {

using util::Bytes;
using util::ByteView;
using util::ErrorKind;

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

// OpenSSL takes lengths as int; objects here are far smaller, so a larger one
// is a bug in the caller, not a runtime condition.
int checked_len(std::size_t n) {
  if (n > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw std::length_error("aead: buffer too large for OpenSSL");
  return static_cast<int>(n);
}

void require(bool ok, const char* what) {
  // EVP calls only fail on allocation failure or misuse, both bugs here.
  if (!ok) throw std::runtime_error(std::string("aead: ") + what + " failed");
}

void check_key(const util::SecretBytes& key) {
  if (key.size() != key_size) throw std::invalid_argument("aead: key must be 32 bytes");
}

// Writes nonce || ciphertext || tag at the end of `out`; the plaintext is
// the concatenation of `parts`.
void seal_into(const util::SecretBytes& key, const std::uint8_t* nonce,
               std::span<const ByteView> parts, ByteView ad, Bytes& out) {
  check_key(key);
  std::size_t plain_size = 0;
  for (auto& p : parts) plain_size += p.size();
  const std::size_t start = out.size();
  out.resize(start + nonce_size + plain_size + tag_size);
  std::uint8_t* dst = out.data() + start;
  std::memcpy(dst, nonce, nonce_size);

  CtxPtr ctx(EVP_CIPHER_CTX_new());
  require(ctx != nullptr, "EVP_CIPHER_CTX_new");
  require(EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1,
          "EVP_EncryptInit_ex");
  require(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, nonce_size, nullptr) == 1,
          "set ivlen");
  require(EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key.data(), nonce) == 1,
          "EVP_EncryptInit_ex(key)");
  int len = 0;
  if (!ad.empty())
    require(EVP_EncryptUpdate(ctx.get(), nullptr, &len, ad.data(), checked_len(ad.size())) == 1,
            "EVP_EncryptUpdate(ad)");
  std::uint8_t* ct = dst + nonce_size;
  std::size_t written = 0;
  // GCM is a stream mode: OpenSSL writes every byte of each update at once,
  // whatever the pieces' lengths.
  for (auto& p : parts) {
    if (p.empty()) continue;
    require(EVP_EncryptUpdate(ctx.get(), ct + written, &len, p.data(), checked_len(p.size())) == 1,
            "EVP_EncryptUpdate");
    written += static_cast<std::size_t>(len);
  }
  require(EVP_EncryptFinal_ex(ctx.get(), ct + written, &len) == 1, "EVP_EncryptFinal_ex");
  written += static_cast<std::size_t>(len);
  require(written == plain_size, "length check");
  require(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, tag_size, ct + written) == 1,
          "get tag");
}

}  // namespace

Bytes seal(const util::SecretBytes& key, ByteView plaintext, ByteView ad) {
  Bytes out;
  out.reserve(plaintext.size() + seal_overhead);
  seal_append(key, plaintext, ad, out);
  return out;
}

void seal_append(const util::SecretBytes& key, ByteView plaintext, ByteView ad, Bytes& out) {
  seal_append_pieces(key, std::span<const ByteView>(&plaintext, 1), ad, out);
}

void seal_append_pieces(const util::SecretBytes& key, std::span<const ByteView> plaintext,
                        ByteView ad, Bytes& out) {
  std::uint8_t nonce[nonce_size];
  random_fill(nonce, nonce_size);
  seal_into(key, nonce, plaintext, ad, out);
}

util::Result<Bytes> open(const util::SecretBytes& key, ByteView sealed, ByteView ad) {
  check_key(key);
  if (sealed.size() < seal_overhead)
    return util::fail(ErrorKind::verification,
                      "opening sealed object: too short (" + std::to_string(sealed.size()) +
                          " bytes, need at least " + std::to_string(seal_overhead) + ")");
  const std::uint8_t* nonce = sealed.data();
  const std::size_t ct_size = sealed.size() - seal_overhead;
  const std::uint8_t* ct = nonce + nonce_size;
  const std::uint8_t* tag = ct + ct_size;

  CtxPtr ctx(EVP_CIPHER_CTX_new());
  require(ctx != nullptr, "EVP_CIPHER_CTX_new");
  require(EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1,
          "EVP_DecryptInit_ex");
  require(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, nonce_size, nullptr) == 1,
          "set ivlen");
  require(EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key.data(), nonce) == 1,
          "EVP_DecryptInit_ex(key)");
  int len = 0;
  if (!ad.empty())
    require(EVP_DecryptUpdate(ctx.get(), nullptr, &len, ad.data(), checked_len(ad.size())) == 1,
            "EVP_DecryptUpdate(ad)");
  Bytes plain(ct_size);
  int written = 0;
  if (ct_size > 0) {
    require(EVP_DecryptUpdate(ctx.get(), plain.data(), &len, ct, checked_len(ct_size)) == 1,
            "EVP_DecryptUpdate");
    written = len;
  }
  // OpenSSL wants a non-const pointer for the expected tag; it only reads it.
  std::uint8_t tag_copy[tag_size];
  std::memcpy(tag_copy, tag, tag_size);
  require(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, tag_size, tag_copy) == 1, "set tag");
  if (EVP_DecryptFinal_ex(ctx.get(), plain.data() + written, &len) != 1) {
    // Never hand back unauthenticated plaintext, not even in memory we free.
    util::wipe(plain.data(), plain.size());
    return util::fail(ErrorKind::verification,
                      "opening sealed object: authentication failed (wrong key, tampered data "
                      "or mismatched object identity)");
  }
  return plain;
}

namespace testing {

Bytes seal_with_nonce_for_test(const util::SecretBytes& key, ByteView nonce, ByteView plaintext,
                               ByteView ad) {
  if (nonce.size() != nonce_size) throw std::invalid_argument("aead: nonce must be 12 bytes");
  Bytes out;
  seal_into(key, nonce.data(), std::span<const ByteView>(&plaintext, 1), ad, out);
  return out;
}

}  // namespace testing
}  // namespace bkp::crypto
