#include "crypto/kdf.hpp"

#include <sodium.h>

#include <cstdlib>
#include <string>

#include "crypto/aead.hpp"
#include "crypto/hash.hpp"
#include "crypto/sodium_init.hpp"

namespace bkp::crypto {
namespace {

// Upper bounds for parameters read from a repository: far above what bkp
// writes (3 passes, 64 MiB), low enough that a hostile config
// cannot stall or exhaust the machine.
constexpr std::uint64_t max_opslimit = 64;
constexpr std::uint64_t max_memlimit = crypto_pwhash_MEMLIMIT_SENSITIVE;  // 1 GiB

}  // namespace

KdfParams default_kdf_params() {
  KdfParams p;
  if (std::getenv("BKP_TEST_FAST_KDF") != nullptr) {
    p.opslimit = crypto_pwhash_OPSLIMIT_MIN;
    p.memlimit = crypto_pwhash_MEMLIMIT_MIN;
  } else {
    // RFC 9106's second recommended setting (t=3, m=64 MiB): strong, and it
    // keeps every command's peak memory low (libsodium's MODERATE, 256 MiB,
    // made bkp's peak RSS four times restic's in tools/bench/compare).
    p.opslimit = 3;
    p.memlimit = 64ull * 1024 * 1024;
  }
  p.salt = random_bytes(crypto_pwhash_SALTBYTES);
  return p;
}

util::Result<util::SecretBytes> derive_key(std::string_view passphrase, const KdfParams& params) {
  detail::ensure_sodium();
  using util::ErrorKind;
  // The parameters come from the repository's plaintext config, so they are
  // untrusted: reject out-of-range values instead of letting a hostile config
  // ask for terabytes of memory.
  if (params.salt.size() != crypto_pwhash_SALTBYTES)
    return util::fail(ErrorKind::corrupt, "deriving key: salt must be " +
                                              std::to_string(crypto_pwhash_SALTBYTES) +
                                              " bytes, got " + std::to_string(params.salt.size()));
  if (params.opslimit < crypto_pwhash_OPSLIMIT_MIN || params.opslimit > max_opslimit)
    return util::fail(ErrorKind::corrupt, "deriving key: opslimit " +
                                              std::to_string(params.opslimit) + " out of range");
  if (params.memlimit < crypto_pwhash_MEMLIMIT_MIN || params.memlimit > max_memlimit)
    return util::fail(ErrorKind::corrupt, "deriving key: memlimit " +
                                              std::to_string(params.memlimit) + " out of range");
  util::SecretBytes key(key_size);
  if (crypto_pwhash(key.data(), key.size(), passphrase.data(), passphrase.size(),
                    params.salt.data(), params.opslimit, static_cast<std::size_t>(params.memlimit),
                    crypto_pwhash_ALG_ARGON2ID13) != 0)
    return util::fail(ErrorKind::generic, "deriving key: argon2id failed (out of memory?)");
  return key;
}

}  // namespace bkp::crypto
