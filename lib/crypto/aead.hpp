// AES-256-GCM through OpenSSL. Every seal draws a fresh random 96-bit nonce;
// the sealed form is nonce (12) || ciphertext || tag (16). Associated data
// binds what the ciphertext is (type, id, key id) so objects cannot be
// swapped without detection.
#pragma once

#include <span>

#include "util/bytes.hpp"
#include "util/result.hpp"
#include "util/secret.hpp"

namespace bkp::crypto {

inline constexpr std::size_t key_size = 32;
inline constexpr std::size_t nonce_size = 12;
inline constexpr std::size_t tag_size = 16;
inline constexpr std::size_t seal_overhead = nonce_size + tag_size;

// `key` must be key_size bytes.
util::Bytes seal(const util::SecretBytes& key, util::ByteView plaintext, util::ByteView ad);
// Appends the sealed form to `out` (avoids a copy when building packs).
void seal_append(const util::SecretBytes& key, util::ByteView plaintext, util::ByteView ad,
                 util::Bytes& out);
// The same for a plaintext given in pieces (sealed as their concatenation),
// so a caller need not copy them together first.
void seal_append_pieces(const util::SecretBytes& key, std::span<const util::ByteView> plaintext,
                        util::ByteView ad, util::Bytes& out);
// Fails with ErrorKind::verification when the tag does not match (wrong key,
// tampered data, or different associated data).
util::Result<util::Bytes> open(const util::SecretBytes& key, util::ByteView sealed,
                               util::ByteView ad);

}  // namespace bkp::crypto
