// Passphrase -> key-encryption key with Argon2id (libsodium crypto_pwhash).
#pragma once

#include <cstdint>

#include "util/bytes.hpp"
#include "util/result.hpp"
#include "util/secret.hpp"

namespace bkp::crypto {

struct KdfParams {
  std::uint64_t opslimit = 0;  // Argon2id passes
  std::uint64_t memlimit = 0;  // bytes
  util::Bytes salt;            // 16 bytes (crypto_pwhash_SALTBYTES)
};

// Parameters for a new key slot: Argon2id with 3 passes and 64 MiB (RFC 9106's
// second recommended setting) unless BKP_TEST_FAST_KDF is set in the environment, which the test
// suite uses to keep thousands of key derivations fast. Fresh random salt.
KdfParams default_kdf_params();
// Derives key_size bytes. Fails (ErrorKind::generic) when memory runs out.
util::Result<util::SecretBytes> derive_key(std::string_view passphrase, const KdfParams& params);

}  // namespace bkp::crypto
