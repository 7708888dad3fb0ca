// The parts of Repository that prune's two-phase deletion needs on every
// host: reading marks, keeping marked blobs out of deduplication, and the
// deadline check before a snapshot is written. Holds live here too.
#include <unistd.h>

#include <algorithm>

#include "repo/repository.hpp"
#include "util/host.hpp"
#include "util/time.hpp"

namespace bkp::repo {

using util::ErrorKind;
using util::fail;

namespace {

// Clocks of the prune host and of a backup host may differ: a backup stops
// this long before a mark's deadline (half the grace period when that is
// shorter, so short grace periods stay usable on one host).
constexpr std::int64_t kClockMarginNs = 300LL * 1'000'000'000;

}  // namespace

util::Result<std::vector<std::pair<std::string, PruneMark>>> Repository::load_prune_marks() {
  std::vector<std::string> names;
  BKP_TRY(backend_->list(prune_mark_prefix, [&](const storage::ObjectInfo& o) {
    names.push_back(o.name);
    return util::Status{};
  }));
  std::sort(names.begin(), names.end());
  std::vector<std::pair<std::string, PruneMark>> out;
  for (auto& name : names) {
    auto plain = load_object(ObjectType::prune_mark, name);
    // Gone since the listing: a prune finished it.
    if (!plain && plain.error().kind == ErrorKind::not_found) continue;
    if (!plain) return fail(plain.error().context("reading prune mark '" + name + "'"));
    BKP_ASSIGN(auto mark, PruneMark::decode(*plain));
    out.emplace_back(name, std::move(mark));
  }
  return out;
}

util::Result<std::string> Repository::write_prune_mark(const PruneMark& mark) {
  auto name = new_prune_mark_name();
  auto& key = keyring_.index_sealing_key();
  auto sealed =
      seal_object(ObjectType::prune_mark, key.id, key.key, mark.encode(), util::as_bytes(name));
  BKP_TRY(backend_->put(name, sealed, storage::WriteMode::create_only));
  return name;
}

util::Status Repository::ensure_prune_state() {
  if (known_marks_) return {};
  return load_prune_state();
}

util::Status Repository::load_prune_state() {
  auto read = load_prune_marks();
  if (!read && read.error().kind == ErrorKind::permission) {
    // Marks this backup slot cannot open (sealed before the repository had
    // an index key): it cannot tell which blobs are about to go, so it
    // deduplicates against nothing in storage until they are finished.
    known_marks_.emplace();
    condemned_.clear();
    marks_unreadable_ = true;
    return {};
  }
  if (!read) return read.propagate();
  marks_unreadable_ = false;
  auto& marks = *read;
  std::set<std::string> names;
  std::unordered_set<BlobId, IdHash> condemned;
  for (auto& [name, mark] : marks) {
    names.insert(name);
    // The catalog keeps one location per blob, an unmarked one when there
    // is one (reindex_catalog): blobs located in a marked pack have no
    // other known copy.
    for (auto& pack : mark.packs) {
      BKP_ASSIGN(auto ids, catalog_->blobs_in_pack(pack));
      condemned.insert(ids.begin(), ids.end());
    }
  }
  known_marks_ = std::move(names);
  condemned_ = std::move(condemned);
  return {};
}

util::Status Repository::check_prune_deadline() {
  // Nothing was deduplicated against the catalog.
  if (!known_marks_ || marks_unreadable_) return {};
  BKP_ASSIGN(auto marks, load_prune_marks());
  auto now = util::now_ns();
  for (auto& [name, mark] : marks) {
    if (known_marks_->count(name)) continue;
    // A mark naming only WAL entries deletes no blob a backup could reuse.
    if (mark.packs.empty()) continue;
    auto created = util::parse_rfc3339(mark.created);
    auto deadline = util::parse_rfc3339(mark.delete_after);
    if (!created || !deadline)
      return fail(ErrorKind::corrupt, "prune mark '" + name + "' has a bad time");
    auto margin = std::min(kClockMarginNs, (*deadline - *created) / 2);
    if (now >= *deadline - margin) {
      return fail(ErrorKind::generic,
                  "a prune started while this backup ran, and its grace period (until " +
                      mark.delete_after +
                      ") is over: data this backup reused may be deleted, so no snapshot is "
                      "written; run the backup again (and give prune a longer --grace)");
    }
  }
  return {};
}

util::Status Repository::reindex_catalog(const std::set<PackId>& condemned) {
  BKP_TRY(catalog_->clear_index());
  std::vector<std::string> segments;
  BKP_TRY(backend_->list("index/", [&](const storage::ObjectInfo& o) {
    segments.push_back(o.name);
    return util::Status{};
  }));
  // Two passes: unmarked packs first, so that a blob in both a marked and an
  // unmarked pack (copied out by a repack) is located in the unmarked one.
  std::vector<BlobLocation> marked;
  for (auto& name : segments) {
    auto plain = load_object(ObjectType::index, name);
    util::Result<std::vector<IndexedPack>> packs =
        plain ? decode_index(*plain) : util::Result<std::vector<IndexedPack>>(plain.propagate());
    if (!packs) {
      auto kind = packs.error().kind;
      if (kind == ErrorKind::not_found) continue;  // removed by a prune meanwhile
      if (kind == ErrorKind::permission) continue;
      if (kind != ErrorKind::verification && kind != ErrorKind::corrupt) return packs.propagate();
      damaged_.push_back("index segment '" + name + "': " + packs.error().message);
      continue;
    }
    BKP_TRY(catalog_->transaction([&]() -> util::Status {
      for (auto& p : *packs) {
        std::vector<BlobLocation> locs;
        for (auto& e : p.blobs)
          locs.push_back({e.id, e.type, p.id, e.offset, e.length, e.raw_length});
        if (condemned.count(p.id)) {
          marked.insert(marked.end(), locs.begin(), locs.end());
        } else {
          BKP_TRY(catalog_->add_blobs(locs));
        }
      }
      return catalog_->add_index_segment(name);
    }));
  }
  return catalog_->add_blobs(marked);
}

util::Result<std::vector<Hold>> Repository::list_holds() {
  std::vector<std::string> names;
  BKP_TRY(backend_->list(hold_prefix, [&](const storage::ObjectInfo& o) {
    names.push_back(o.name);
    return util::Status{};
  }));
  std::vector<Hold> out;
  for (auto& name : names) {
    auto plain = load_object(ObjectType::hold, name);
    if (!plain && plain.error().kind == ErrorKind::not_found) continue;
    if (!plain) return fail(plain.error().context("reading hold '" + name + "'"));
    BKP_ASSIGN(auto hold, Hold::decode(*plain));
    if (hold.object_name() != name) {
      return fail(ErrorKind::verification, "hold '" + name + "' names another snapshot");
    }
    out.push_back(std::move(hold));
  }
  return out;
}

util::Status Repository::put_hold(const Hold& hold) {
  BKP_TRY(may_delete());
  Hold h = hold;
  if (h.created.empty()) h.created = util::now_rfc3339();
  if (h.hostname.empty()) h.hostname = util::host_name();
  auto& key = keyring_.current_key();
  auto name = h.object_name();
  auto sealed = seal_object(ObjectType::hold, key.id, key.key, h.encode(), util::as_bytes(name));
  BKP_TRY(backend_->put(name, sealed, storage::WriteMode::overwrite));
  BKP_ASSIGN(auto row, catalog_->get_backup(h.snapshot));
  if (row) {
    row->retention_until = std::string(kHeldUntil);
    BKP_TRY(catalog_->upsert_backup(*row));
  }
  return {};
}

util::Status Repository::remove_hold(const std::string& snapshot_id) {
  BKP_TRY(may_delete());
  auto name = std::string(hold_prefix) + snapshot_id;
  auto there = backend_->stat(name);
  if (!there && there.error().kind == ErrorKind::not_found) {
    return fail(ErrorKind::not_found, "snapshot '" + snapshot_id + "' is not held");
  }
  if (!there) return there.propagate();
  BKP_TRY(backend_->remove(name));
  BKP_ASSIGN(auto row, catalog_->get_backup(snapshot_id));
  if (row && row->retention_until == kHeldUntil) {
    row->retention_until.clear();
    BKP_TRY(catalog_->upsert_backup(*row));
  }
  return {};
}

}  // namespace bkp::repo
