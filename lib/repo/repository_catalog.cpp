// The parts of Repository that keep the catalog in step with storage:
// snapshots, index segments, and the full rebuild.
#include <nlohmann/json.hpp>
#include <set>

#include "repo/audit_log.hpp"
#include "repo/repository.hpp"

namespace bkp::repo {

using util::ErrorKind;
using util::fail;

util::Status Repository::add_backup_row(const Snapshot& s) {
  catalog::BackupRow row;
  row.id = s.id;
  row.backup_type = s.backup_type;
  row.database_name = s.source_name;
  row.parent_backup_id = s.parent;
  row.status = s.stats.value("partial", false) ? "partial" : "completed";
  row.size_bytes = s.stats.value("total_bytes", std::int64_t{0});
  row.compressed_size_bytes = s.stats.value("stored_bytes_new", std::int64_t{0});
  row.encryption_enabled = true;
  row.checksum = s.stats.value("sha256", std::string());
  row.storage_location = backend_->describe();
  row.storage_backend = std::string(backend_->kind());
  row.created_at = s.time;
  row.completed_at = s.completed;
  nlohmann::json meta{{"source_kind", s.source_kind},
                      {"paths", s.paths},
                      {"tags", s.tags},
                      {"hostname", s.hostname},
                      {"username", s.username},
                      {"tree", util::to_hex(s.tree)},
                      {"stats", s.stats},
                      {"extra", s.extra}};
  row.metadata = meta.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return catalog_->upsert_backup(row);
}

util::Status Repository::save_snapshot(const Snapshot& snapshot) {
  // A snapshot exists only once everything it references is durable: make
  // that hold here rather than trust every caller to flush first.
  BKP_TRY(flush());
  BKP_TRY(check_prune_deadline());
  BKP_TRY(check_key_retirement());
  BKP_TRY(publish_session_key());
  // The audit chain's head goes inside the sealed manifest, so that removing
  // the newest audit entries is caught by audit verify (audit_anchor.hpp).
  // Always this repository's own: a copied snapshot's anchor named the
  // source's chain.
  Snapshot anchored = snapshot;
  BKP_ASSIGN(anchored.audit, audit_anchor(*this));
  auto& key = content_key();
  auto name = snapshot.object_name();
  auto sealed =
      seal_object(ObjectType::snapshot, key.id, key.key, anchored.encode(), util::as_bytes(name));
  BKP_TRY(backend_->put(name, sealed, storage::WriteMode::create_only));
  return add_backup_row(snapshot);
}

util::Result<Snapshot> Repository::load_snapshot(const std::string& id) {
  auto plain = load_object(ObjectType::snapshot, "snapshots/" + id);
  if (!plain) {
    if (plain.error().kind == ErrorKind::not_found) {
      return fail(ErrorKind::not_found, "snapshot '" + id + "' does not exist");
    }
    return plain.propagate();
  }
  BKP_ASSIGN(auto snap, Snapshot::decode(*plain));
  if (snap.id != id) return fail(ErrorKind::verification, "snapshot '" + id + "' names another id");
  return snap;
}

util::Status Repository::sync_catalog() {
  damaged_.clear();
  // Index segments written by other hosts (or by a run whose catalog was lost).
  std::vector<std::string> segments;
  BKP_TRY(backend_->list("index/", [&](const storage::ObjectInfo& o) {
    segments.push_back(o.name);
    return util::Status{};
  }));
  // A prune changed the repository (new marks, or marks finished and
  // segments rewritten): read the chunk index again, so that locations of
  // deleted packs go and a blob copied out of a marked pack is found at its
  // new place. Rare, and bounded by the index's size.
  auto marks_read = load_prune_marks();
  // A backup slot cannot open a mark sealed before the repository had an
  // index key: load_prune_state() then turns deduplication off.
  if (!marks_read && marks_read.error().kind != ErrorKind::permission)
    return marks_read.propagate();
  std::vector<std::pair<std::string, PruneMark>> marks;
  if (marks_read) marks = std::move(*marks_read);
  std::string fingerprint;
  std::set<PackId> condemned;
  for (auto& [name, mark] : marks) {
    fingerprint += name + ";";
    condemned.insert(mark.packs.begin(), mark.packs.end());
  }
  BKP_ASSIGN(auto known_segments, catalog_->index_segment_names());
  std::set<std::string> stored(segments.begin(), segments.end());
  bool segment_gone = std::any_of(known_segments.begin(), known_segments.end(),
                                  [&](const std::string& n) { return !stored.count(n); });
  BKP_ASSIGN(auto known_fingerprint, catalog_->get_meta("prune_marks"));
  if (marks_read && (segment_gone || known_fingerprint.value_or("") != fingerprint)) {
    BKP_TRY(reindex_catalog(condemned));
    BKP_TRY(catalog_->set_meta("prune_marks", fingerprint));
  }
  known_marks_.reset();
  condemned_.clear();
  for (auto& name : segments) {
    BKP_ASSIGN(bool known, catalog_->has_index_segment(name));
    if (known) continue;
    auto plain = load_object(ObjectType::index, name);
    util::Result<std::vector<IndexedPack>> packs =
        plain ? decode_index(*plain) : util::Result<std::vector<IndexedPack>>(plain.propagate());
    // Sealed with a data key a backup slot does not hold (written before the
    // repository had an index key): it cannot dedup against those blobs.
    if (!packs && packs.error().kind == ErrorKind::permission) continue;
    if (!packs) {
      // One damaged segment must not stop every command: skip it (it is
      // tried again next time) and let verify report it.
      auto kind = packs.error().kind;
      if (kind != ErrorKind::verification && kind != ErrorKind::corrupt) return packs.propagate();
      damaged_.push_back("index segment '" + name + "': " + packs.error().message);
      continue;
    }
    BKP_TRY(catalog_->transaction([&]() -> util::Status {
      for (auto& p : *packs) {
        std::vector<BlobLocation> locs;
        for (auto& e : p.blobs)
          locs.push_back({e.id, e.type, p.id, e.offset, e.length, e.raw_length});
        BKP_TRY(catalog_->add_blobs(locs));
      }
      return catalog_->add_index_segment(name);
    }));
  }

  // Snapshots: add the new, drop rows whose manifest is gone.
  std::set<std::string> in_storage;
  BKP_TRY(backend_->list("snapshots/", [&](const storage::ObjectInfo& o) {
    in_storage.insert(o.name.substr(std::string_view("snapshots/").size()));
    return util::Status{};
  }));
  BKP_ASSIGN(auto rows, catalog_->list_backups());
  std::set<std::string> in_catalog;
  for (auto& r : rows) {
    bool settled = r.status == "completed" || r.status == "partial";
    if (settled && !in_storage.count(r.id)) {
      BKP_TRY(catalog_->delete_backup(r.id));
    } else {
      in_catalog.insert(r.id);
    }
  }
  for (auto& id : in_storage) {
    if (in_catalog.count(id)) continue;
    auto snap = load_snapshot(id);
    if (!snap && snap.error().kind == ErrorKind::permission) continue;  // a backup slot
    if (!snap) {
      auto kind = snap.error().kind;
      if (kind != ErrorKind::verification && kind != ErrorKind::corrupt) {
        return fail(snap.error().context("reading snapshot '" + id + "'"));
      }
      damaged_.push_back("snapshot '" + id + "': " + snap.error().message);
      continue;
    }
    BKP_TRY(add_backup_row(*snap));
  }
  // Holds: a rebuilt catalog learns them again from storage.
  auto holds = list_holds();
  if (!holds && holds.error().kind != ErrorKind::permission) return holds.propagate();
  if (holds) {
    for (auto& h : *holds) {
      BKP_ASSIGN(auto row, catalog_->get_backup(h.snapshot));
      if (!row || row->retention_until == kHeldUntil) continue;
      row->retention_until = std::string(kHeldUntil);
      BKP_TRY(catalog_->upsert_backup(*row));
    }
  }
  return load_prune_state();
}

util::Status Repository::rebuild_catalog() {
  BKP_TRY(catalog_->clear_index());
  BKP_ASSIGN(auto rows, catalog_->list_backups());
  for (auto& r : rows) BKP_TRY(catalog_->delete_backup(r.id));
  return sync_catalog();
}

}  // namespace bkp::repo
