// Public-key sealing (libsodium crypto_box_seal: X25519, XSalsa20-Poly1305,
// an ephemeral sender key per message). Lets a write-only key slot seal a
// secret that only holders of the private key can open: the basis of backup
// slots that cannot read what they wrote (doc/repository-format.md).
#pragma once

#include <optional>

#include "util/bytes.hpp"
#include "util/secret.hpp"

namespace bkp::crypto {

inline constexpr std::size_t box_public_key_size = 32;
inline constexpr std::size_t box_secret_key_size = 32;
inline constexpr std::size_t box_seal_overhead = 48;

struct BoxKeyPair {
  util::Bytes public_key;        // box_public_key_size
  util::SecretBytes secret_key;  // box_secret_key_size
};

BoxKeyPair generate_box_keypair();
// Anyone with the public key can seal; `public_key` must be 32 bytes.
util::Bytes box_seal(util::ByteView public_key, util::ByteView plaintext);
// nullopt when the keys do not match or the sealed bytes were altered.
std::optional<util::SecretBytes> box_open(const BoxKeyPair& keys, util::ByteView sealed);

}  // namespace bkp::crypto
