// The parts of Repository that retire a data key (doc/key-rotation.md):
// retirement markers, the check every writer makes before a snapshot or
// WAL entry, and the destruction of the key itself. What is rewritten in
// between is lib/engine/reencrypt.cpp.
#include <algorithm>

#include "repo/repository.hpp"
#include "util/host.hpp"
#include "util/time.hpp"

namespace bkp::repo {

using util::ErrorKind;
using util::fail;

util::Result<std::vector<KeyRetirement>> Repository::load_key_retirements() {
  std::vector<std::string> names;
  BKP_TRY(backend_->list(key_retirement_prefix, [&](const storage::ObjectInfo& o) {
    names.push_back(o.name);
    return util::Status{};
  }));
  std::sort(names.begin(), names.end());
  std::vector<KeyRetirement> out;
  for (auto& name : names) {
    auto plain = load_object(ObjectType::key_retirement, name);
    if (!plain && plain.error().kind == ErrorKind::not_found) continue;  // finished meanwhile
    if (!plain) return fail(plain.error().context("reading key retirement '" + name + "'"));
    BKP_ASSIGN(auto r, KeyRetirement::decode(*plain));
    if (r.object_name() != name)
      return fail(ErrorKind::verification, "key retirement '" + name + "' names another key");
    out.push_back(std::move(r));
  }
  return out;
}

util::Status Repository::write_key_retirement(const KeyRetirement& retirement) {
  BKP_TRY(may_manage_keys());
  auto name = retirement.object_name();
  auto& key = keyring_.index_sealing_key();
  auto sealed = seal_object(ObjectType::key_retirement, key.id, key.key, retirement.encode(),
                            util::as_bytes(name));
  auto st = backend_->put(name, sealed, storage::WriteMode::create_only);
  // A killed run wrote it already: its deadline stands.
  if (!st && st.error().kind == ErrorKind::exists) return {};
  return st;
}

util::Status Repository::check_key_retirement() {
  const KeyId sealing = keyring_.current;
  auto refuse = [&](const std::string& why) {
    return fail(ErrorKind::generic, "data key " + util::to_hex(sealing) + ", which this " +
                                        "process seals with, " + why +
                                        ": no snapshot is written; run the backup again");
  };
  auto there = backend_->stat(std::string(key_retirement_prefix) + util::to_hex(sealing));
  if (there) return refuse("is being retired by 'bkp keys rotate --reencrypt'");
  if (there.error().kind != ErrorKind::not_found) return there.propagate();
  if (is_writer()) {
    // A session key is destroyed by removing its sealed copy.
    if (!session_published_) return {};
    auto session = backend_->stat(session_object_name(sealing));
    if (!session && session.error().kind == ErrorKind::not_found) return refuse("was destroyed");
    if (!session) return session.propagate();
    return {};
  }
  BKP_ASSIGN(auto newest, read_newest_keyring(*backend_, master_));
  if (!newest.find(sealing)) return refuse("was destroyed");
  return {};
}

util::Status Repository::destroy_data_key(const KeyId& id) {
  BKP_TRY(may_manage_keys());
  BKP_ASSIGN(auto newest, read_newest_keyring(*backend_, master_));
  if (newest.find(id)) {
    if (newest.current == id)
      return fail(ErrorKind::usage, "data key " + util::to_hex(id) + " is current");
    if (newest.box && newest.index_key == id)
      return fail(ErrorKind::usage, "data key " + util::to_hex(id) + " seals index segments");
    BKP_ASSIGN(keyring_, write_next_generation(master_, [&](Keyring& next) {
                 std::erase_if(next.data_keys, [&](const DataKey& k) { return k.id == id; });
               }));
  }
  // Older generations still hold the key: only removing them destroys it.
  // (A reader takes the newest generation that opens, so this is safe at
  // any point; a killed run removes the rest next time.)
  BKP_TRY(remove_older_generations());
  auto st = backend_->remove(session_object_name(id));
  if (!st && st.error().kind != ErrorKind::not_found) return st;
  st = backend_->remove(std::string(key_retirement_prefix) + util::to_hex(id));
  if (!st && st.error().kind != ErrorKind::not_found) return st;
  return {};
}

}  // namespace bkp::repo
