// Blob ids: keyed BLAKE2b (format 1) or HMAC-SHA-256 (format 2).
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <stdexcept>
#include <string>

#include "crypto/hash.hpp"

namespace bkp::crypto {

namespace {

void require(bool ok, const char* what) {
  // These fail only on allocation failure or misuse, both bugs here.
  if (!ok) throw std::runtime_error(std::string("blob hash: ") + what + " failed");
}

// One HMAC context per thread, keyed once: restarting it with a null key
// reuses the key schedule, so a 100-byte tree blob costs no algorithm fetch
// and no hashing of the key. The key copy and the context are wiped when the
// thread ends or another key comes.
class HmacContext {
 public:
  HmacContext() = default;
  HmacContext(const HmacContext&) = delete;
  HmacContext& operator=(const HmacContext&) = delete;
  ~HmacContext() { reset(); }

  EVP_MAC_CTX* keyed(const util::SecretBytes& key) {
    if (ctx_ && key.size() == key_.size() &&
        CRYPTO_memcmp(key.data(), key_.data(), key.size()) == 0) {
      require(EVP_MAC_init(ctx_, nullptr, 0, nullptr) == 1, "EVP_MAC_init");
      return ctx_;
    }
    reset();
    // Fetched once per process; EVP_MAC objects are safe to share.
    static EVP_MAC* const hmac = EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_HMAC, nullptr);
    require(hmac != nullptr, "EVP_MAC_fetch");
    ctx_ = EVP_MAC_CTX_new(hmac);
    require(ctx_ != nullptr, "EVP_MAC_CTX_new");
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    require(EVP_MAC_init(ctx_, key.data(), key.size(), params) == 1, "EVP_MAC_init");
    key_ = key;
    return ctx_;
  }

 private:
  void reset() {
    EVP_MAC_CTX_free(ctx_);  // clears the HMAC key state
    ctx_ = nullptr;
    key_ = util::SecretBytes();
  }

  EVP_MAC_CTX* ctx_ = nullptr;
  util::SecretBytes key_;
};

Digest hmac_sha256_digest(const util::SecretBytes& key, util::ByteView data) {
  thread_local HmacContext context;
  EVP_MAC_CTX* ctx = context.keyed(key);
  require(EVP_MAC_update(ctx, data.data(), data.size()) == 1, "EVP_MAC_update");
  Digest out{};
  std::size_t len = 0;
  require(EVP_MAC_final(ctx, out.data(), &len, out.size()) == 1 && len == out.size(),
          "EVP_MAC_final");
  return out;
}

}  // namespace

std::string_view to_string(BlobIdAlgorithm algorithm) {
  switch (algorithm) {
    case BlobIdAlgorithm::keyed_blake2b:
      return "blake2b-256-keyed";
    case BlobIdAlgorithm::hmac_sha256:
      return "hmac-sha256";
  }
  return "unknown";
}

std::optional<BlobIdAlgorithm> parse_blob_id_algorithm(std::string_view text) {
  for (auto a : {BlobIdAlgorithm::keyed_blake2b, BlobIdAlgorithm::hmac_sha256}) {
    if (text == to_string(a)) return a;
  }
  return std::nullopt;
}

Digest blob_hash(BlobIdAlgorithm algorithm, const util::SecretBytes& key, util::ByteView data) {
  if (key.size() != 32) throw std::invalid_argument("blob_hash: key must be 32 bytes");
  if (algorithm == BlobIdAlgorithm::hmac_sha256) return hmac_sha256_digest(key, data);
  return keyed_hash(key, data);
}

}  // namespace bkp::crypto
