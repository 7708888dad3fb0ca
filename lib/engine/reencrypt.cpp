// Re-encryption under the current data key, and destruction of retired keys.
//
// Order, each step durable before the next:
// 1. if the key to retire is current, a new data key becomes current;
// 2. a retirement marker per key ("retire/<id>", deadline now + grace):
//    from now on no process sealing with that key writes a snapshot or WAL
//    entry (Repository::check_key_retirement), and a later run knows from
//    storage which keys it was retiring;
// 3. scan: every pack whose header or a blob names a retiring key;
// 4. prune with those packs forced into its repack (their live blobs sealed
//    again with the current key) and then marked and, once due, deleted:
//    the same two-phase deletion as any prune (doc/prune.md);
// 5. scan again; index segments, snapshots, WAL entries, holds and marks
//    sealed with a retiring key are sealed again (overwritten in place,
//    each write atomic; segments under a new name before the old one goes);
// 6. a key that nothing in storage names any more, whose marker's deadline
//    has passed, is destroyed (Repository::destroy_data_key).
// A run killed anywhere leaves objects that each open with a key still in
// the keyring; the next run reads the markers and continues.
#include "engine/reencrypt.hpp"

#include "repo/forget_record.hpp"

#include <algorithm>

#include "repo/hold.hpp"
#include "repo/wal_entry.hpp"
#include "util/host.hpp"
#include "util/time.hpp"

namespace bkp::engine {

using util::ErrorKind;
using util::fail;

namespace {

using KeySet = std::set<repo::KeyId>;

struct Kind {
  const char* label;
  std::string_view prefix;
  repo::ObjectType type;
};

// Every encrypted object but packs (blobs and headers), the keyring (the
// master key) and audit entries (the audit key).
const Kind kKinds[] = {
    {"index", "index/", repo::ObjectType::index},
    {"snapshots", "snapshots/", repo::ObjectType::snapshot},
    {"wal", repo::wal_prefix, repo::ObjectType::wal_entry},
    {"holds", repo::hold_prefix, repo::ObjectType::hold},
    {"forget_records", repo::forget_record_prefix, repo::ObjectType::forget_record},
    {"prune_marks", repo::prune_mark_prefix, repo::ObjectType::prune_mark},
    {"key_retirements", repo::key_retirement_prefix, repo::ObjectType::key_retirement},
};

struct KeyUse {
  std::set<repo::PackId> packs;
  std::vector<std::pair<std::string, const Kind*>> objects;
  std::map<std::string, ObjectCount> counts;
  std::map<repo::KeyId, std::uint64_t> packs_per_key;  // packs naming each key
};

std::optional<repo::KeyId> named_key(util::ByteView sealed, const KeySet& keys) {
  auto header = repo::peek_envelope(sealed);
  if (!header || !keys.count(header->key_id)) return std::nullopt;
  return header->key_id;
}

// The retiring keys a pack's header and blobs name (reads the whole pack).
util::Result<KeySet> pack_keys(repo::Repository& repo, const std::string& name,
                               const KeySet& keys) {
  BKP_ASSIGN(auto bytes, repo.backend().get(name));
  auto damaged = [&](const std::string& why) {
    return fail(ErrorKind::verification, "pack '" + name + "' is damaged: " + why +
                                             "; nothing more was rewritten: run bkp verify");
  };
  if (bytes.size() < 4) return damaged("too short");
  BKP_ASSIGN(auto header_len,
             repo::pack_header_length(util::ByteView(bytes).subspan(bytes.size() - 4)));
  if (std::uint64_t{header_len} + 4 > bytes.size()) return damaged("header out of range");
  util::ByteView header(bytes.data() + bytes.size() - 4 - header_len, header_len);
  KeySet found;
  if (auto k = named_key(header, keys)) found.insert(*k);
  BKP_ASSIGN(auto peek, repo::peek_envelope(header));
  auto entries = repo::open_pack_header(header, repo.find_key(peek.key_id));
  // A shredded key domain's pack: unreadable for good, and prune deletes it.
  if (!entries && repo.shredded_domain_of(header)) return found;
  if (!entries) return damaged(entries.error().message);
  for (auto& e : *entries) {
    if (std::uint64_t{e.offset} + e.length > bytes.size()) return damaged("blob out of range");
    if (auto k = named_key(util::ByteView(bytes.data() + e.offset, e.length), keys))
      found.insert(*k);
  }
  return found;
}

// Everything in storage sealed with one of `keys`. Packs are immutable, so
// one found clean (in `clean`) is not read again.
util::Status find_key_use(repo::Repository& repo, const KeySet& keys, std::set<repo::PackId>& clean,
                          KeyUse& use) {
  std::vector<std::pair<repo::PackId, std::uint64_t>> packs;
  BKP_TRY(repo.backend().list("data/", [&](const storage::ObjectInfo& o) {
    if (auto id = repo::parse_pack_name(o.name); id && !clean.count(*id))
      packs.emplace_back(*id, o.size);
    return util::Status{};
  }));
  for (auto& [id, size] : packs) {
    auto found = pack_keys(repo, repo::pack_object_name(id), keys);
    if (!found && found.error().kind == ErrorKind::not_found) continue;  // deleted meanwhile
    if (!found) return found.propagate();
    if (found->empty()) {
      clean.insert(id);
      continue;
    }
    for (auto& k : *found) ++use.packs_per_key[k];
    use.packs.insert(id);
    ++use.counts["packs"].objects;
    use.counts["packs"].bytes += size;
  }
  for (auto& kind : kKinds) {
    std::vector<std::string> names;
    BKP_TRY(repo.backend().list(kind.prefix, [&](const storage::ObjectInfo& o) {
      names.push_back(o.name);
      return util::Status{};
    }));
    for (auto& name : names) {
      auto sealed = repo.backend().get(name);
      if (!sealed && sealed.error().kind == ErrorKind::not_found) continue;
      if (!sealed) return sealed.propagate();
      if (!named_key(*sealed, keys)) continue;
      use.objects.emplace_back(name, &kind);
      ++use.counts[kind.label].objects;
      use.counts[kind.label].bytes += sealed->size();
    }
  }
  return {};
}

// Seals one object again with the current key (the index key for what is
// sealed with it). In place, atomically; an index segment under a new name
// first, since its name is random and others may have merged the old one.
util::Status reseal(repo::Repository& repo, const std::string& name, const Kind& kind) {
  auto plain = repo.load_object(kind.type, name);
  if (!plain && plain.error().kind == ErrorKind::not_found) return {};  // removed meanwhile
  if (!plain) return plain.propagate();
  bool index_key = kind.type == repo::ObjectType::index ||
                   kind.type == repo::ObjectType::prune_mark ||
                   kind.type == repo::ObjectType::key_retirement;
  auto& key = index_key ? repo.keyring().index_sealing_key() : repo.keyring().current_key();
  std::string target = kind.type == repo::ObjectType::index ? repo::new_index_name() : name;
  auto sealed = repo::seal_object(kind.type, key.id, key.key, *plain, util::as_bytes(target));
  util::wipe(plain->data(), plain->size());
  if (target != name) {
    BKP_TRY(repo.backend().put(target, sealed, storage::WriteMode::create_only));
    auto st = repo.backend().remove(name);
    if (!st && st.error().kind != ErrorKind::not_found) return st;
    return {};
  }
  // Forgotten since the scan: do not bring it back.
  auto there = repo.backend().stat(name);
  if (!there && there.error().kind == ErrorKind::not_found) return {};
  if (!there) return there.propagate();
  return repo.backend().put(name, sealed, storage::WriteMode::overwrite);
}

// The keys this run retires: those of earlier runs' markers, and the one
// asked for (or every key but the current and the index key).
util::Result<KeySet> keys_to_retire(repo::Repository& repo, const ReencryptOptions& o,
                                    const std::vector<repo::KeyRetirement>& markers) {
  KeySet keys;
  for (auto& m : markers) keys.insert(m.key);
  auto& ring = repo.keyring();
  auto protect = [&](const repo::KeyId& id) -> util::Status {
    if (ring.box && ring.index_key == id) {
      return fail(ErrorKind::usage, "data key " + util::to_hex(id) +
                                        " is the index key, which backup slots hold: it "
                                        "cannot be retired");
    }
    return {};
  };
  if (o.retire) {
    BKP_TRY(protect(*o.retire));
    if (auto* d = ring.domain_of(*o.retire)) {
      return fail(ErrorKind::usage, "data key " + util::to_hex(*o.retire) +
                                        " belongs to key domain '" + d->name +
                                        "': domains are shredded, not retired");
    }
    bool session = repo.backend().stat(repo::session_object_name(*o.retire)).ok();
    if (!ring.find(*o.retire) && !session && !keys.count(*o.retire)) {
      return fail(ErrorKind::not_found,
                  "no data key '" + util::to_hex(*o.retire) + "' (see 'bkp keys list')");
    }
    keys.insert(*o.retire);
    return keys;
  }
  for (auto& k : ring.data_keys) {
    if (k.id == ring.current || (ring.box && k.id == ring.index_key)) continue;
    if (ring.domain_of(k.id)) continue;  // a key domain's: shredded, never retired
    keys.insert(k.id);
  }
  BKP_TRY(repo.backend().list("sessions/", [&](const storage::ObjectInfo& info) {
    auto hex = std::string_view(info.name).substr(std::string_view("sessions/").size());
    if (auto id = repo::parse_key_id(hex)) keys.insert(*id);
    return util::Status{};
  }));
  return keys;
}

}  // namespace

nlohmann::json ReencryptPlan::to_json() const {
  auto hex = [](const std::vector<repo::KeyId>& v) {
    std::vector<std::string> out;
    for (auto& k : v) out.push_back(util::to_hex(k));
    return out;
  };
  nlohmann::json kinds = nlohmann::json::object();
  std::uint64_t objects = 0, bytes = 0;
  for (auto& [kind, c] : rewrite) {
    kinds[kind] = {{"objects", c.objects}, {"bytes", c.bytes}};
    objects += c.objects;
    bytes += c.bytes;
  }
  return {{"dry_run", dry_run},
          {"current_key", util::to_hex(current)},
          {"rotated", rotated},
          {"retiring", hex(retiring)},
          {"rewrite", kinds},
          {"objects_to_rewrite", objects},
          {"bytes_to_rewrite", bytes},
          {"bytes_repacked", bytes_repacked},
          {"destroyed", hex(destroyed)},
          {"waiting", waiting}};
}

util::Result<ReencryptPlan> reencrypt_repository(repo::Repository& repo,
                                                 const ReencryptOptions& o) {
  BKP_TRY(repo.may_manage_keys());
  BKP_TRY(repo.may_delete());
  bool dry = o.dry_run == DryRun::yes;
  ReencryptPlan plan;
  plan.dry_run = dry;
  BKP_ASSIGN(auto markers, repo.load_key_retirements());
  BKP_ASSIGN(auto keys, keys_to_retire(repo, o, markers));

  // 1. The key to retire must not be the one new objects are sealed with.
  if (keys.count(repo.keyring().current)) {
    plan.rotated = true;
    if (!dry) BKP_TRY(repo.rotate_keys(std::nullopt));
  }
  plan.current = repo.keyring().current;
  plan.retiring.assign(keys.begin(), keys.end());
  if (keys.empty()) return plan;

  // 2. Markers, before anything is scanned.
  auto start = util::now_ns();
  if (!dry) {
    for (auto& k : keys) {
      repo::KeyRetirement r;
      r.key = k;
      r.created = util::format_rfc3339(start);
      r.delete_after = util::format_rfc3339(start + o.grace_ns);
      r.hostname = util::host_name();
      BKP_TRY(repo.write_key_retirement(r));
    }
    BKP_ASSIGN(markers, repo.load_key_retirements());
  }

  // 3. What uses the keys.
  std::set<repo::PackId> clean;
  KeyUse before;
  BKP_TRY(find_key_use(repo, keys, clean, before));
  plan.rewrite = before.counts;
  if (dry) return plan;

  // 4. Packs: prune's repack and two-phase deletion.
  if (!before.packs.empty()) {
    PruneOptions po;
    po.grace_ns = o.grace_ns;
    po.lease_ns = o.lease_ns;
    po.rewrite = before.packs;
    po.reseal = keys;
    BKP_ASSIGN(auto pruned, prune_repository(repo, po));
    plan.bytes_repacked = pruned.bytes_repacked;
  }

  // 5. Everything else, as storage holds it now.
  KeyUse after;
  BKP_TRY(find_key_use(repo, keys, clean, after));
  for (auto& [name, kind] : after.objects) BKP_TRY(reseal(repo, name, *kind));

  // 6. Keys nothing names any more, past their marker's deadline.
  auto now = util::now_ns();
  for (auto& k : keys) {
    auto hex = util::to_hex(k);
    if (auto n = after.packs_per_key.find(k); n != after.packs_per_key.end()) {
      plan.waiting.push_back("key " + hex + ": " + std::to_string(n->second) +
                             " pack(s) still hold data sealed with it; they are deleted once "
                             "their prune mark is due: run this again then");
      continue;
    }
    auto marker = std::find_if(markers.begin(), markers.end(),
                               [&](const repo::KeyRetirement& m) { return m.key == k; });
    if (marker != markers.end()) {
      auto deadline = util::parse_rfc3339(marker->delete_after);
      if (!deadline)
        return fail(ErrorKind::corrupt, "key retirement for " + hex + " has a bad time");
      if (*deadline > now && o.grace_ns != 0) {
        plan.waiting.push_back("key " + hex + ": its grace period ends " + marker->delete_after +
                               " (a backup that started under it may still be running): run "
                               "this again then");
        continue;
      }
    }
    BKP_TRY(repo.destroy_data_key(k));
    plan.destroyed.push_back(k);
  }
  BKP_TRY(repo.sync_catalog());
  return plan;
}

}  // namespace bkp::engine
