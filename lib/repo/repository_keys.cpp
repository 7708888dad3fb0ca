// The parts of Repository that manage keys: the keyring generations, key
// slots (add, list, remove) and rotation of the data key and master key.
//
// Crash safety of a rewrap (new master key): the new slot is written first
// (harmless until a keyring opens with it), then the new keyring generation
// sealed with the new master key, then the old slots and generations are
// removed. Between the second and third step both secrets open the
// repository: the old one opens the previous generation, because a reader
// takes the newest generation that authenticates with its master key.
#include <algorithm>

#include "crypto/aead.hpp"
#include "crypto/hash.hpp"
#include "repo/repository.hpp"
#include "util/time.hpp"

namespace bkp::repo {

using util::ErrorKind;
using util::fail;

namespace {

util::Result<std::vector<std::uint64_t>> keyring_generations(storage::Backend& backend) {
  std::vector<std::uint64_t> gens;
  BKP_TRY(backend.list("keyring/", [&](const storage::ObjectInfo& o) {
    if (auto g = keyring_generation(o.name)) gens.push_back(*g);
    return util::Status{};
  }));
  std::sort(gens.rbegin(), gens.rend());
  return gens;
}

bool is_slot_id(std::string_view id) {
  util::Bytes raw;
  return id.size() == 16 && util::from_hex(id, raw) &&
         util::to_hex(raw) == id;  // lowercase only, as written
}

util::Status put_keyring(storage::Backend& backend, const Keyring& keyring,
                         const util::SecretBytes& master) {
  auto name = keyring.object_name();
  auto sealed = seal_object(ObjectType::keyring, KeyId{}, master, keyring.encode().view(),
                            util::as_bytes(name));
  return backend.put(name, sealed, storage::WriteMode::create_only);
}

}  // namespace

util::Result<Keyring> Repository::read_newest_keyring(storage::Backend& backend,
                                                      const util::SecretBytes& master) {
  BKP_ASSIGN(auto gens, keyring_generations(backend));
  if (gens.empty()) return fail(ErrorKind::verification, "the repository has no keyring");
  std::optional<util::Error> first_error;
  for (auto g : gens) {
    auto name = keyring_object_name(g);
    auto sealed = backend.get(name);
    // Removed since it was listed: a rewrap finished meanwhile.
    if (!sealed && sealed.error().kind == ErrorKind::not_found) continue;
    if (!sealed) return sealed.propagate();
    auto plain = open_object(ObjectType::keyring, master, *sealed, util::as_bytes(name));
    if (!plain) {
      if (!first_error) first_error = plain.error().context("keyring '" + name + "'");
      // Sealed with another master key: a rewrap that has not finished.
      if (plain.error().kind == ErrorKind::verification) continue;
      return fail(*first_error);
    }
    auto keyring = Keyring::decode(*plain);
    util::wipe(plain->data(), plain->size());
    if (!keyring) return keyring.propagate();
    if (keyring->generation != g) {
      return fail(ErrorKind::verification,
                  "keyring '" + name + "' holds generation " + std::to_string(keyring->generation));
    }
    return keyring;
  }
  if (first_error) return fail(*first_error);
  return fail(ErrorKind::verification, "the repository has no keyring");
}

DataKey Repository::new_data_key() {
  DataKey dk;
  crypto::random_fill(dk.id.data(), dk.id.size());
  dk.key = crypto::random_secret(crypto::key_size);
  dk.created_ns = util::now_ns();
  return dk;
}

util::Error Repository::cannot_read(const std::string& what) const {
  return util::make_error(ErrorKind::permission,
                          "cannot read " + what + ": key slot '" + slot_.id +
                              "' has role 'backup', which adds snapshots but reads nothing back; "
                              "use an admin or restore slot");
}

util::Status Repository::publish_session_key() {
  if (!is_writer() || session_published_) return {};
  auto& key = keyring_.current_key();
  auto name = session_object_name(key.id);
  auto st = backend_->put(name, seal_session_key(key, keyring_.box->public_key),
                          storage::WriteMode::create_only);
  if (!st) return fail(st.error().context("writing '" + name + "'"));
  session_published_ = true;
  return {};
}

const DataKey* Repository::find_key(const KeyId& id) {
  if (const DataKey* k = keyring_.find(id)) return k;
  if (is_writer()) return nullptr;  // no master key: nothing more to learn
  std::lock_guard lock(newer_keys_mutex_);
  auto known = [&]() -> const DataKey* {
    for (auto& k : newer_keys_)
      if (k.id == id) return &k;
    return nullptr;
  };
  if (const DataKey* k = known()) return k;
  // Another process may have rotated keys since this one opened.
  auto newest = read_newest_keyring(*backend_, master_);
  if (!newest) return nullptr;
  for (auto& k : newest->data_keys) {
    bool have = keyring_.find(k.id) != nullptr ||
                std::any_of(newer_keys_.begin(), newer_keys_.end(),
                            [&](const DataKey& n) { return n.id == k.id; });
    if (!have) newer_keys_.push_back(k);
  }
  if (const DataKey* k = known()) return k;
  // A backup session's key, sealed to the keyring's public key.
  const auto& box = newest->box ? newest->box : keyring_.box;
  if (!box || box->secret_key.empty()) return nullptr;
  auto sealed = backend_->get(session_object_name(id));
  if (!sealed) return nullptr;
  auto session = open_session_key(*box, id, *sealed);
  if (!session) return nullptr;
  newer_keys_.push_back(std::move(*session));
  return &newer_keys_.back();
}

util::Status Repository::may_manage_keys() const {
  if (slot_.role_value() == Role::admin) return {};
  return fail(ErrorKind::permission, "key slot '" + slot_.id + "' has role '" + slot_.role +
                                         "': only an admin slot may change keys");
}

util::Status Repository::may_read(const std::string& what) const {
  if (!is_writer()) return {};
  return fail(cannot_read(what));
}

util::Status Repository::may_delete() const {
  if (slot_.role_value() == Role::admin) return {};
  return fail(ErrorKind::permission, "key slot '" + slot_.id + "' has role '" + slot_.role +
                                         "': only an admin slot may delete snapshots or data");
}

util::Result<std::vector<KeySlot>> Repository::list_key_slots() {
  std::vector<std::string> names;
  BKP_TRY(backend_->list("keys/", [&](const storage::ObjectInfo& o) {
    names.push_back(o.name);
    return util::Status{};
  }));
  std::vector<KeySlot> slots;
  for (auto& name : names) {
    auto bytes = backend_->get(name);
    if (!bytes && bytes.error().kind == ErrorKind::not_found) continue;  // removed meanwhile
    if (!bytes) return bytes.propagate();
    auto slot = KeySlot::decode(*bytes);
    // Not a slot this bkp understands (damaged, or a newer format): the
    // opening code skips it too.
    if (!slot || slot->object_name() != name) continue;
    slots.push_back(std::move(*slot));
  }
  std::sort(slots.begin(), slots.end(), [](const KeySlot& a, const KeySlot& b) {
    return std::tie(a.created, a.id) < std::tie(b.created, b.id);
  });
  return slots;
}

util::Result<KeySlot> Repository::add_key_slot(const Credentials& credentials, Role role) {
  BKP_TRY(may_manage_keys());
  // The same secret in two slots would make which one opens depend on
  // listing order.
  BKP_ASSIGN(auto existing, list_key_slots());
  for (auto& s : existing) {
    if (s.kind != credentials.kind) continue;
    if (unwrap_slot(s, credentials)) {
      return fail(ErrorKind::exists,
                  "this passphrase or key already opens key slot '" + s.id + "'");
    }
  }
  KeySlot slot;
  if (role == Role::backup) {
    // The first backup slot gives the keyring its key pair and index key
    // (keyring version 2), in a new generation.
    if (!keyring_.box) {
      BKP_ASSIGN(keyring_, write_next_generation(master_, [](Keyring& next) {
                   if (!next.box) next.add_writer_keys();
                 }));
    }
    BKP_ASSIGN(slot, make_writer_slot(credentials, WriterKeyring::from(keyring_).encode()));
  } else {
    BKP_ASSIGN(slot, make_slot(credentials, master_, std::string(role_name(role))));
  }
  auto st = backend_->put(slot.object_name(), slot.encode(), storage::WriteMode::create_only);
  if (!st) return fail(st.error().context("writing key slot '" + slot.object_name() + "'"));
  return slot;
}

util::Status Repository::remove_key_slot(const std::string& id) {
  if (!is_slot_id(id)) {
    return fail(ErrorKind::usage, "'" + id + "' is not a key slot id (16 hex digits)");
  }
  BKP_TRY(may_manage_keys());
  BKP_ASSIGN(auto slots, list_key_slots());
  auto target = std::find_if(slots.begin(), slots.end(), [&](auto& s) { return s.id == id; });
  if (target == slots.end()) return fail(ErrorKind::not_found, "no key slot '" + id + "'");
  auto other_admins = std::count_if(slots.begin(), slots.end(), [&](const KeySlot& s) {
    return s.id != id && s.role_value() == Role::admin;
  });
  if (target->role_value() == Role::admin && other_admins == 0) {
    return fail(ErrorKind::generic,
                "refusing to remove key slot '" + id + "': it is the last admin slot");
  }
  if (id == slot_.id && other_admins == 0) {
    return fail(ErrorKind::generic, "refusing to remove key slot '" + id +
                                        "', the one in use: no other admin slot exists");
  }
  auto st = backend_->remove(target->object_name());
  if (!st) return fail(st.error().context("removing key slot '" + target->object_name() + "'"));
  return {};
}

util::Result<Repository::Rotation> Repository::rotate_keys(
    const std::optional<Credentials>& rewrap) {
  BKP_TRY(may_manage_keys());
  Rotation result;
  util::SecretBytes master = master_;
  if (rewrap) {
    master = crypto::random_secret(crypto::key_size);
    BKP_ASSIGN(auto slot, make_slot(*rewrap, master, slot_.role));
    auto st = backend_->put(slot.object_name(), slot.encode(), storage::WriteMode::create_only);
    if (!st) return fail(st.error().context("writing key slot '" + slot.object_name() + "'"));
    result.new_slot = std::move(slot);
  }
  BKP_ASSIGN(auto written, write_next_generation(master, [](Keyring& next) {
               DataKey dk = new_data_key();
               next.current = dk.id;
               next.data_keys.push_back(std::move(dk));
             }));
  result.new_key = written.current;
  result.generation = written.generation;

  if (rewrap) {
    // Every slot but the new one holds the old master key: the old secrets
    // stop working once those slots and the generations sealed with the old
    // master key are gone.
    BKP_ASSIGN(auto slots, list_key_slots());
    for (auto& s : slots) {
      if (s.id == result.new_slot->id) continue;
      if (s.holds_writer_keyring()) continue;  // holds no master key
      if (auto st = backend_->remove(s.object_name()); !st) {
        result.cleanup_errors.push_back("removing '" + s.object_name() +
                                        "': " + st.error().message);
      } else {
        result.removed_slots.push_back(s.id);
      }
    }
    BKP_ASSIGN(auto gens, keyring_generations(*backend_));
    for (auto g : gens) {
      if (g >= written.generation) continue;
      auto name = keyring_object_name(g);
      if (auto st = backend_->remove(name); !st)
        result.cleanup_errors.push_back("removing '" + name + "': " + st.error().message);
    }
    master_ = std::move(master);
    slot_ = *result.new_slot;
  }
  // Nothing seals in this process while keys change (no backup runs in the
  // same process), so the keyring can be replaced in place.
  keyring_ = std::move(written);
  return result;
}

util::Result<Keyring> Repository::write_next_generation(
    const util::SecretBytes& master, const std::function<void(Keyring&)>& change) {
  // Another process may rotate at the same moment: the generation is
  // written create-only, so one of the two loses and tries again on top of
  // the winner's keyring (keeping its keys).
  for (int attempt = 0; attempt < 5; ++attempt) {
    BKP_ASSIGN(auto next, read_newest_keyring(*backend_, master_));
    BKP_ASSIGN(auto gens, keyring_generations(*backend_));
    next.generation = (gens.empty() ? next.generation : gens.front()) + 1;
    change(next);
    auto st = put_keyring(*backend_, next, master);
    if (!st && st.error().kind == ErrorKind::exists) continue;
    if (!st) return fail(st.error().context("writing '" + next.object_name() + "'"));
    return next;
  }
  return fail(ErrorKind::locked, "another process keeps rotating the keys; try again later");
}

}  // namespace bkp::repo
