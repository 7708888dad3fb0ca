#include "crypto/box.hpp"

#include <sodium.h>

#include "crypto/sodium_init.hpp"

namespace bkp::crypto {

BoxKeyPair generate_box_keypair() {
  detail::ensure_sodium();
  BoxKeyPair kp;
  kp.public_key.resize(crypto_box_PUBLICKEYBYTES);
  kp.secret_key = util::SecretBytes(crypto_box_SECRETKEYBYTES);
  crypto_box_keypair(kp.public_key.data(), kp.secret_key.data());
  return kp;
}

util::Bytes box_seal(util::ByteView public_key, util::ByteView plaintext) {
  detail::ensure_sodium();
  util::Bytes out(plaintext.size() + crypto_box_SEALBYTES);
  crypto_box_seal(out.data(), plaintext.data(), plaintext.size(), public_key.data());
  return out;
}

std::optional<util::SecretBytes> box_open(const BoxKeyPair& keys, util::ByteView sealed) {
  detail::ensure_sodium();
  if (sealed.size() < crypto_box_SEALBYTES || keys.public_key.size() != crypto_box_PUBLICKEYBYTES ||
      keys.secret_key.size() != crypto_box_SECRETKEYBYTES) {
    return std::nullopt;
  }
  util::SecretBytes out(sealed.size() - crypto_box_SEALBYTES);
  if (crypto_box_seal_open(out.data(), sealed.data(), sealed.size(), keys.public_key.data(),
                           keys.secret_key.data()) != 0) {
    return std::nullopt;
  }
  return out;
}

}  // namespace bkp::crypto
