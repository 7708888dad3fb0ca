#include "repo/key_slot.hpp"

#include <unistd.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "crypto/aead.hpp"
#include "crypto/hash.hpp"
#include "repo/json_read.hpp"
#include "util/fs.hpp"
#include "util/host.hpp"
#include "util/time.hpp"

namespace bkp::repo {

using util::ErrorKind;
using util::fail;

namespace {

constexpr std::string_view kKeyFilePrefix = "bkp-key-v1 ";

util::Bytes slot_binding(const std::string& id) { return util::to_bytes("bkp key slot " + id); }

util::Result<util::SecretBytes> slot_kek(const KeySlot& slot, const Credentials& c) {
  if (c.kind == SlotKind::key_file) {
    if (c.secret.size() != crypto::key_size)
      return fail(ErrorKind::usage, "key file is not 32 bytes");
    return c.secret;
  }
  return crypto::derive_key(c.secret.chars(), slot.kdf);
}

}  // namespace

util::Bytes KeySlot::encode() const {
  nlohmann::ordered_json j;
  j["version"] = version;
  j["id"] = id;
  j["role"] = role;
  j["kind"] = kind == SlotKind::passphrase ? "passphrase" : "key_file";
  if (kind == SlotKind::passphrase) {
    j["kdf"] = {{"algorithm", "argon2id"},
                {"opslimit", kdf.opslimit},
                {"memlimit", kdf.memlimit},
                {"salt", util::to_hex(kdf.salt)}};
  }
  j[holds_writer_keyring() ? "wrapped_writer_keyring" : "wrapped_master_key"] =
      util::to_hex(wrapped);
  j["created"] = created;
  j["hostname"] = hostname;
  j["username"] = username;
  return util::to_bytes(j.dump(2) + "\n");
}

util::Result<KeySlot> KeySlot::decode(util::ByteView bytes) {
  try {
    auto j = nlohmann::json::parse(util::as_chars(bytes));
    auto version = json_integer<int>(j.at("version"), "version");
    if (version != 1 && version != 2) {
      return fail(ErrorKind::usage, "key slot format is newer than this bkp; upgrade bkp");
    }
    KeySlot s;
    s.version = version;
    s.id = j.at("id").get<std::string>();
    s.role = j.at("role").get<std::string>();
    auto kind = j.at("kind").get<std::string>();
    if (kind == "passphrase") {
      s.kind = SlotKind::passphrase;
      auto& k = j.at("kdf");
      if (k.at("algorithm") != "argon2id")
        return fail(ErrorKind::corrupt, "unknown key derivation");
      s.kdf.opslimit = json_integer<std::uint64_t>(k.at("opslimit"), "opslimit");
      s.kdf.memlimit = json_integer<std::uint64_t>(k.at("memlimit"), "memlimit");
      if (!util::from_hex(k.at("salt").get<std::string>(), s.kdf.salt))
        return fail(ErrorKind::corrupt, "bad salt");
    } else if (kind == "key_file") {
      s.kind = SlotKind::key_file;
    } else {
      return fail(ErrorKind::corrupt, "unknown key slot kind '" + kind + "'");
    }
    if (version == 2 && s.role != "backup")
      return fail(ErrorKind::corrupt, "a version 2 key slot must have role backup");
    auto field = version == 2 ? "wrapped_writer_keyring" : "wrapped_master_key";
    if (!util::from_hex(j.at(field).get<std::string>(), s.wrapped))
      return fail(ErrorKind::corrupt, "bad wrapped key");
    s.created = j.value("created", "");
    s.hostname = j.value("hostname", "");
    s.username = j.value("username", "");
    return s;
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorKind::corrupt, std::string("key slot is not valid: ") + e.what());
  }
}

util::Result<KeySlot> make_slot(const Credentials& c, const util::SecretBytes& master_key,
                                std::string role) {
  KeySlot slot;
  slot.id = util::to_hex(crypto::random_bytes(8));
  slot.role = std::move(role);
  slot.kind = c.kind;
  if (c.kind == SlotKind::passphrase) slot.kdf = crypto::default_kdf_params();
  BKP_ASSIGN(auto kek, slot_kek(slot, c));
  slot.wrapped = crypto::seal(kek, master_key.view(), slot_binding(slot.id));
  slot.created = util::now_rfc3339();
  slot.hostname = util::host_name();
  if (const char* u = ::getenv("USER")) slot.username = u;
  return slot;
}

util::Result<KeySlot> make_writer_slot(const Credentials& c,
                                       const util::SecretBytes& writer_keyring) {
  BKP_ASSIGN(auto slot, make_slot(c, writer_keyring, "backup"));
  slot.version = 2;
  return slot;
}

util::Result<util::SecretBytes> unwrap_slot(const KeySlot& slot, const Credentials& c) {
  if (slot.kind != c.kind) return fail(ErrorKind::wrong_key, "key slot is of another kind");
  BKP_ASSIGN(auto kek, slot_kek(slot, c));
  auto master = crypto::open(kek, slot.wrapped, slot_binding(slot.id));
  if (!master) return fail(ErrorKind::wrong_key, "wrong passphrase or key");
  util::SecretBytes out(*master);
  util::wipe(master->data(), master->size());
  return out;
}

util::Status generate_key_file(const std::string& path) {
  auto key = crypto::random_secret(crypto::key_size);
  std::string text = std::string(kKeyFilePrefix) + util::to_hex(key.view()) + "\n";
  auto st = util::write_file_atomic(path, util::as_bytes(text), 0600, util::Overwrite::forbid);
  util::wipe(text.data(), text.size());
  return st;
}

util::Result<util::SecretBytes> read_key_file(const std::string& path) {
  auto text = util::read_text_file(path);
  if (!text) return fail(ErrorKind::usage, "key file: " + text.error().message);
  auto key = parse_key_text(*text, "'" + path + "'");
  util::wipe(text->data(), text->size());
  return key;
}

util::Result<util::SecretBytes> parse_key_text(std::string_view t, const std::string& what) {
  // Exactly the prefix (optional), 64 hex digits and an optional newline:
  // anything else is not a key bkp wrote, and guessing which part is the key
  // could lock the user out later.
  if (t.substr(0, kKeyFilePrefix.size()) == kKeyFilePrefix) t.remove_prefix(kKeyFilePrefix.size());
  util::Bytes raw;
  auto rest = t.substr(std::min<std::size_t>(t.size(), 64));
  bool ok =
      util::from_hex(t.substr(0, 64), raw) && raw.size() == 32 && (rest.empty() || rest == "\n");
  if (!ok) {
    util::wipe(raw.data(), raw.size());
    return fail(ErrorKind::usage, what + " is not a bkp key");
  }
  util::SecretBytes key(raw);
  util::wipe(raw.data(), raw.size());
  return key;
}

std::string_view role_name(Role role) {
  switch (role) {
    case Role::admin:
      return "admin";
    case Role::backup:
      return "backup";
    case Role::restore:
      return "restore";
  }
  return "backup";
}

util::Result<Role> parse_role(std::string_view name) {
  for (Role r : {Role::admin, Role::backup, Role::restore})
    if (role_name(r) == name) return r;
  return fail(ErrorKind::usage,
              "unknown role '" + std::string(name) + "': use admin, backup or restore");
}

Role KeySlot::role_value() const {
  auto r = parse_role(role);
  return r ? *r : Role::backup;
}

}  // namespace bkp::repo
