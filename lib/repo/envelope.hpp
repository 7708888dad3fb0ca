// The envelope around every encrypted object and blob in the repository:
//
//   magic "BKP" | format 0x01 | type u8 | key id [8] | nonce [12] | ciphertext | tag [16]
//
// The associated data is the 13-byte prefix (magic, format, type, key id)
// followed by the object's name or id, so an object cannot be moved to
// another name, presented as another type, or claimed under another key.
// See doc/repository-format.md.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "util/bytes.hpp"
#include "util/result.hpp"
#include "util/secret.hpp"

namespace bkp::repo {

// Part of the format: never renumber.
enum class ObjectType : std::uint8_t {
  data_blob = 1,
  tree_blob = 2,
  pack_header = 3,
  index = 4,
  snapshot = 5,
  keyring = 6,
  key_slot = 7,
  wal_entry = 8,
  prune_mark = 9,
  hold = 10,
  audit_entry = 11,
  key_retirement = 12,
  prune_lease = 13,
  forget_record = 14,
};

using KeyId = std::array<std::uint8_t, 8>;

inline constexpr std::size_t envelope_prefix_size = 13;
inline constexpr std::size_t envelope_overhead = envelope_prefix_size + 12 + 16;

// Seals `plaintext`; `binding` is the name or id the object is stored under.
util::Bytes seal_object(ObjectType type, const KeyId& key_id, const util::SecretBytes& key,
                        util::ByteView plaintext, util::ByteView binding);
void seal_object_append(ObjectType type, const KeyId& key_id, const util::SecretBytes& key,
                        util::ByteView plaintext, util::ByteView binding, util::Bytes& out);
// The same for a plaintext given in pieces (sealed as their concatenation).
void seal_object_append_pieces(ObjectType type, const KeyId& key_id, const util::SecretBytes& key,
                               std::span<const util::ByteView> plaintext, util::ByteView binding,
                               util::Bytes& out);

struct EnvelopeHeader {
  ObjectType type;
  KeyId key_id;
};
// Parses the prefix without decrypting: which key is needed. ErrorKind::corrupt
// when it is not a bkp envelope of a known format version.
util::Result<EnvelopeHeader> peek_envelope(util::ByteView sealed);
// Opens an object expected to be of `type`; ErrorKind::verification on any
// mismatch of type, key, binding or tag.
util::Result<util::Bytes> open_object(ObjectType type, const util::SecretBytes& key,
                                      util::ByteView sealed, util::ByteView binding);

}  // namespace bkp::repo
