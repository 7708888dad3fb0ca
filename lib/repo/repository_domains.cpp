// The parts of Repository for key domains (crypto-shredding): choosing the
// domain a backup writes under, and destroying a domain's keys. See
// doc/key-domains.md.
#include <algorithm>

#include "repo/repository.hpp"
#include "util/time.hpp"

namespace bkp::repo {

using util::ErrorKind;
using util::fail;

const DataKey& Repository::content_key() const {
  if (domain_) {
    if (const DataKey* k = keyring_.find(domain_->data_key)) return *k;
  }
  return keyring_.current_key();
}

util::Error Repository::unknown_key(const KeyId& id, const std::string& what) const {
  for (auto& d : keyring_.shredded) {
    if (d.data_key == id) {
      return util::make_error(ErrorKind::verification,
                              what + " belongs to key domain '" + d.name + "', shredded " +
                                  util::format_rfc3339(d.shredded_ns) + ": it cannot be read");
    }
  }
  return util::make_error(ErrorKind::verification, what + " uses an unknown key");
}

const ShreddedDomain* Repository::shredded_domain_of(util::ByteView sealed) const {
  auto header = peek_envelope(sealed);
  return header ? keyring_.shredded_key(header->key_id) : nullptr;
}

util::Status Repository::use_key_domain(const std::string& name) {
  if (!valid_domain_name(name)) {
    return fail(ErrorKind::usage, "'" + name +
                                      "' is not a key domain name (1-64 letters, digits, '.', "
                                      "'_' or '-')");
  }
  if (is_writer()) {
    return fail(ErrorKind::permission, "key slot '" + slot_.id +
                                           "' has role 'backup': key domains need an admin or "
                                           "restore slot");
  }
  // Another host may have created (or shredded) it since this one opened.
  BKP_ASSIGN(auto newest, read_newest_keyring(*backend_, master_));
  if (newest.generation > keyring_.generation) keyring_ = std::move(newest);
  for (auto& s : keyring_.shredded) {
    if (s.name == name) {
      return fail(ErrorKind::generic, "key domain '" + name + "' was shredded " +
                                          util::format_rfc3339(s.shredded_ns) +
                                          "; back up under another name");
    }
  }
  if (!keyring_.find_domain(name)) {
    if (auto st = may_manage_keys(); !st) {
      return fail(st.error().context("key domain '" + name + "' does not exist, and creating it"));
    }
    BKP_ASSIGN(keyring_, write_next_generation(master_, [&](Keyring& next) {
                 if (!next.find_domain(name)) next.add_domain(name);
               }));
  }
  const KeyDomain* d = keyring_.find_domain(name);
  if (!d) return fail(ErrorKind::generic, "key domain '" + name + "' was shredded meanwhile");
  domain_ = *d;
  chunker_.emplace(config_.chunker, domain_->chunker_seed.view());
  return {};
}

util::Result<bool> Repository::in_current_domain(const std::string& snapshot_id) {
  BKP_ASSIGN(auto sealed, backend_->get("snapshots/" + snapshot_id));
  BKP_ASSIGN(auto header, peek_envelope(sealed));
  const KeyDomain* d = keyring_.domain_of(header.key_id);
  if (!d || !domain_) return !d && !domain_;
  return d->name == domain_->name;
}

util::Result<ShreddedDomain> Repository::shred_key_domain(const std::string& name) {
  BKP_TRY(may_manage_keys());
  BKP_ASSIGN(auto newest, read_newest_keyring(*backend_, master_));
  if (!newest.find_domain(name)) {
    for (auto& s : newest.shredded) {
      if (s.name != name) continue;
      keyring_ = std::move(newest);
      BKP_TRY(remove_older_generations());  // a shred killed before it finished
      return s;
    }
    return fail(ErrorKind::not_found, "no key domain '" + name + "'");
  }
  ShreddedDomain out;
  BKP_ASSIGN(keyring_, write_next_generation(master_, [&](Keyring& next) {
               auto d = std::find_if(next.domains.begin(), next.domains.end(),
                                     [&](const KeyDomain& k) { return k.name == name; });
               if (d == next.domains.end()) return;
               out = ShreddedDomain{d->name, d->data_key, util::now_ns()};
               std::erase_if(next.data_keys,
                             [&](const DataKey& k) { return k.id == out.data_key; });
               next.domains.erase(d);
               next.shredded.push_back(out);
             }));
  if (out.name.empty()) {  // another process shredded it first
    for (auto& s : keyring_.shredded)
      if (s.name == name) out = s;
  }
  if (domain_ && domain_->name == name) domain_.reset();
  BKP_TRY(remove_older_generations());
  return out;
}

util::Status Repository::remove_older_generations() {
  std::vector<std::uint64_t> older;
  BKP_TRY(backend_->list("keyring/", [&](const storage::ObjectInfo& o) {
    if (auto g = keyring_generation(o.name); g && *g < keyring_.generation) older.push_back(*g);
    return util::Status{};
  }));
  for (auto g : older) {
    auto st = backend_->remove(keyring_object_name(g));
    if (!st && st.error().kind != ErrorKind::not_found) return st;
  }
  return {};
}

}  // namespace bkp::repo
