// The keyring ("keyring/<generation>"), sealed with the master key: the
// data-encryption keys (each with an id that every object names), the key
// for chunk ids, the chunker seed, and a digest of the plaintext config so a
// tampered config is detected. A rotation writes a new generation; every
// old data key stays until it is retired. Binary, so secrets can be wiped.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "crypto/hash.hpp"
#include "repo/envelope.hpp"
#include "util/result.hpp"
#include "util/secret.hpp"

namespace bkp::repo {

struct DataKey {
  KeyId id{};
  util::SecretBytes key;
  std::int64_t created_ns = 0;
};

struct Keyring {
  std::uint64_t generation = 1;
  crypto::Digest config_digest{};
  util::SecretBytes chunk_id_key;  // 32 bytes
  util::SecretBytes chunker_seed;  // 32 bytes
  std::vector<DataKey> data_keys;
  KeyId current{};

  // A fresh keyring with one data key, bound to the config's bytes.
  static Keyring create(util::ByteView config_bytes);
  const DataKey* find(const KeyId& id) const;
  const DataKey& current_key() const;
  std::string object_name() const;

  util::SecretBytes encode() const;
  static util::Result<Keyring> decode(util::ByteView plaintext);
};

// The generation number in a keyring object name, or nullopt.
std::optional<std::uint64_t> keyring_generation(std::string_view object_name);
std::string keyring_object_name(std::uint64_t generation);

}  // namespace bkp::repo
