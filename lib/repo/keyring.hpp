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

#include "crypto/box.hpp"
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

// A key domain (crypto-shredding, doc/key-domains.md): content backed up
// under it is chunked, named and sealed with keys of its own, so destroying
// them (bkp keys shred) makes all of it unreadable at once, and nothing of
// it deduplicates with content outside it.
struct KeyDomain {
  std::string name;                // 1-64 bytes: [A-Za-z0-9._-]
  util::SecretBytes chunk_id_key;  // 32 bytes
  util::SecretBytes chunker_seed;  // 32 bytes
  KeyId data_key{};                // one of Keyring::data_keys
};
// What is left of a shredded domain: its name and the id of its data key,
// so that readers can tell "shredded" from "damaged".
struct ShreddedDomain {
  std::string name;
  KeyId data_key{};
  std::int64_t shredded_ns = 0;
};

struct Keyring {
  std::uint64_t generation = 1;
  crypto::Digest config_digest{};
  util::SecretBytes chunk_id_key;  // 32 bytes
  util::SecretBytes chunker_seed;  // 32 bytes
  std::vector<DataKey> data_keys;
  KeyId current{};
  // Keyring version 2, for write-only (backup) slots: the key pair that
  // backup sessions seal their data keys to, and the data key that seals
  // index segments only (one of data_keys), which backup slots also hold.
  // A backup slot's view has the public half only (secret_key empty).
  std::optional<crypto::BoxKeyPair> box;
  KeyId index_key{};
  // Keyring version 3 (written once a key domain exists).
  std::vector<KeyDomain> domains;
  std::vector<ShreddedDomain> shredded;

  const KeyDomain* find_domain(std::string_view name) const;
  const KeyDomain* domain_of(const KeyId& data_key) const;
  const ShreddedDomain* shredded_key(const KeyId& data_key) const;
  // Adds a domain with new keys (a new generation's content).
  const KeyDomain& add_domain(const std::string& name);

  // The key that seals index segments: index_key when there is one.
  const DataKey& index_sealing_key() const;
  // Adds the box key pair and a new index key (a new generation's content).
  void add_writer_keys();

  // A fresh keyring with one data key, bound to the config's bytes.
  static Keyring create(util::ByteView config_bytes);
  const DataKey* find(const KeyId& id) const;
  const DataKey& current_key() const;
  std::string object_name() const;

  util::SecretBytes encode() const;
  static util::Result<Keyring> decode(util::ByteView plaintext);
};

// What a backup slot wraps instead of the master key: enough to chunk, name
// and deduplicate blobs, to read and write index segments, and to seal
// session keys to the public key; nothing that opens data or snapshots.
struct WriterKeyring {
  std::uint64_t generation = 0;  // of the keyring it was taken from
  crypto::Digest config_digest{};
  util::SecretBytes chunk_id_key, chunker_seed;
  util::Bytes box_public_key;
  DataKey index_key;

  static WriterKeyring from(const Keyring& keyring);  // needs keyring.box
  // A keyring view for a backup session: the index key and `session`,
  // which is current.
  Keyring session_keyring(DataKey session) const;
  util::SecretBytes encode() const;
  static util::Result<WriterKeyring> decode(util::ByteView plaintext);
};

// A backup session's data key, sealed to the keyring's public key: the
// object "sessions/<16 hex key id>".
std::string session_object_name(const KeyId& id);
util::Bytes seal_session_key(const DataKey& key, util::ByteView box_public_key);
util::Result<DataKey> open_session_key(const crypto::BoxKeyPair& box, const KeyId& expected,
                                       util::ByteView sealed);

// A usable domain name: 1-64 of [A-Za-z0-9._-].
bool valid_domain_name(std::string_view name);

// The generation number in a keyring object name, or nullopt.
std::optional<std::uint64_t> keyring_generation(std::string_view object_name);
std::string keyring_object_name(std::uint64_t generation);

}  // namespace bkp::repo
