// Hashes: keyed chunk ids (ids reveal nothing about content to someone
// without the key), SHA-256 for content checksums and pack names,
// HMAC-SHA256 for request signing.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "util/bytes.hpp"
#include "util/secret.hpp"

namespace bkp::crypto {

using Digest = std::array<std::uint8_t, 32>;

// Keyed BLAKE2b with a 32-byte output; `key` is 32 bytes.
Digest keyed_hash(const util::SecretBytes& key, util::ByteView data);
Digest sha256(util::ByteView data);

// How a repository computes blob ids, recorded in its config. Format 1 used
// keyed BLAKE2b; format 2 uses HMAC-SHA-256, which OpenSSL computes with the
// CPU's SHA instructions at about 1.7x BLAKE2b's speed here (doc/chunking.md):
// the id is taken over every byte backed up and every byte verified.
enum class BlobIdAlgorithm { keyed_blake2b, hmac_sha256 };
std::string_view to_string(BlobIdAlgorithm algorithm);
std::optional<BlobIdAlgorithm> parse_blob_id_algorithm(std::string_view text);

// The blob id of `data` under the 32-byte `key`. Thread-safe.
Digest blob_hash(BlobIdAlgorithm algorithm, const util::SecretBytes& key, util::ByteView data);
util::Bytes hmac_sha256(util::ByteView key, util::ByteView data);

// Incremental SHA-256 for streams (whole-file and whole-dump checksums).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(util::ByteView data);
  Digest finish();

 private:
  void* ctx_;  // EVP_MD_CTX
};

// Cryptographically secure random bytes (libsodium randombytes_buf).
void random_fill(std::uint8_t* p, std::size_t n);
util::Bytes random_bytes(std::size_t n);
util::SecretBytes random_secret(std::size_t n);

}  // namespace bkp::crypto
