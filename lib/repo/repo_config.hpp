// The plaintext "config" object: what a reader needs before it can unlock
// anything. Its digest is sealed in the keyring, so tampering is detected.
#pragma once

#include <cstdint>
#include <string>

#include "chunk/chunker.hpp"
#include "compress/codec.hpp"
#include "crypto/hash.hpp"
#include "util/bytes.hpp"
#include "util/result.hpp"

namespace bkp::repo {

// Format 2 (2026-11-27) changed only the blob id algorithm, recorded in the
// config's "blob_id"; format 1 repositories keep keyed BLAKE2b for ever.
inline constexpr int kFormatVersion = 2;
inline constexpr std::size_t kDefaultPackSize = 16 * 1024 * 1024;
// Offsets inside a pack are 32-bit; a pack closes once it reaches pack_size,
// so this leaves room for the last blob and the header.
inline constexpr std::size_t kMaxPackSize = 1024 * 1024 * 1024;

struct RepoConfig {
  int version = kFormatVersion;
  std::string id;  // 64 hex digits
  std::string created;
  chunk::Params chunker;
  compress::Spec compression;
  std::size_t pack_size = kDefaultPackSize;
  crypto::BlobIdAlgorithm blob_id = crypto::BlobIdAlgorithm::hmac_sha256;

  util::Bytes encode() const;
  static util::Result<RepoConfig> decode(util::ByteView json);
};

}  // namespace bkp::repo
