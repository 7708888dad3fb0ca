// Key slots ("keys/<id>"): the master key wrapped under a key-encryption key
// derived from a passphrase (Argon2id) or taken from a key file. Stored as
// plaintext JSON, since they must be readable before anything is unlocked;
// the wrapped master key is AES-256-GCM bound to the slot id.
#pragma once

#include <string>

#include "crypto/kdf.hpp"
#include "util/bytes.hpp"
#include "util/result.hpp"
#include "util/secret.hpp"

namespace bkp::repo {

enum class SlotKind { passphrase, key_file };

// What a slot may do. admin: everything; restore: read everything, delete
// nothing (prune, forget, key changes refuse it); backup: add snapshots only.
enum class Role { admin, backup, restore };
std::string_view role_name(Role role);
// ErrorKind::usage for a name that is not a role.
util::Result<Role> parse_role(std::string_view name);

// What the user brings to unlock a repository.
struct Credentials {
  SlotKind kind = SlotKind::passphrase;
  util::SecretBytes secret;  // the passphrase, or the 32 raw bytes of a key file
};

struct KeySlot {
  std::string id;  // 16 hex digits; the object is "keys/<id>"
  std::string role = "admin";
  SlotKind kind = SlotKind::passphrase;
  crypto::KdfParams kdf;  // passphrase slots only
  // Version 1 slots wrap the master key; version 2 slots (role backup)
  // wrap a WriterKeyring instead (doc/repository-format.md, write-only keys).
  int version = 1;
  util::Bytes wrapped;  // sealed master key, or sealed writer keyring
  std::string created;
  std::string hostname;
  std::string username;

  std::string object_name() const { return "keys/" + id; }
  // The slot's role; an unknown role string (a newer bkp's) counts as the
  // least privileged one, backup.
  Role role_value() const;
  bool holds_writer_keyring() const { return version == 2; }
  util::Bytes encode() const;
  static util::Result<KeySlot> decode(util::ByteView json);
};

// A new slot holding `master_key`, openable with `credentials`.
util::Result<KeySlot> make_slot(const Credentials& credentials, const util::SecretBytes& master_key,
                                std::string role);
// A new backup slot holding `writer_keyring` (WriterKeyring::encode()).
util::Result<KeySlot> make_writer_slot(const Credentials& credentials,
                                       const util::SecretBytes& writer_keyring);
// The master key (or, for a version 2 slot, the writer keyring), or
// ErrorKind::wrong_key when the credentials do not open it.
util::Result<util::SecretBytes> unwrap_slot(const KeySlot& slot, const Credentials& credentials);

// Key files hold "bkp-key-v1 <64 hex digits>\n". Generates one (0600,
// never overwriting), or reads one.
util::Status generate_key_file(const std::string& path);
util::Result<util::SecretBytes> read_key_file(const std::string& path);
// The key in the text of a key file, or in a key command's output: the key
// file form, or just 64 hex digits; one trailing newline is allowed.
// ErrorKind::usage otherwise; `what` names the source in the message.
util::Result<util::SecretBytes> parse_key_text(std::string_view text, const std::string& what);

}  // namespace bkp::repo
