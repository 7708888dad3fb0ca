#include "engine/prune_scan.hpp"

#include <deque>

#include "engine/tree.hpp"
#include "repo/wal_entry.hpp"

namespace bkp::engine {

using util::ErrorKind;
using util::fail;

util::Status scan_repository(repo::Repository& repo, RepoScan& scan) {
  auto& backend = repo.backend();
  // Marks and the time check come before anything else is listed: a
  // snapshot written before a mark's deadline is then always seen.
  BKP_ASSIGN(scan.marks, repo.load_prune_marks());
  // Roots (snapshots, WAL entries) before segments, segments before packs:
  // every blob a listed root names is then in a listed segment, even when
  // a backup writes while prune lists.
  std::vector<std::string> ids;
  BKP_TRY(backend.list("snapshots/", [&](const storage::ObjectInfo& o) {
    ids.push_back(o.name.substr(std::string_view("snapshots/").size()));
    return util::Status{};
  }));
  for (auto& id : ids) {
    auto snap = repo.load_snapshot(id);
    if (!snap && snap.error().kind == ErrorKind::not_found) continue;  // forgotten meanwhile
    if (!snap) {
      auto sealed = backend.get("snapshots/" + id);
      if (sealed && repo.shredded_domain_of(*sealed)) {
        scan.shredded.push_back(id);
        continue;
      }
    }
    if (!snap) return fail(snap.error().context("prune cannot read snapshot '" + id + "'"));
    scan.snapshots.push_back(std::move(*snap));
  }
  // WAL entries are roots too (doc/repository-format.md).
  std::vector<std::string> wal;
  BKP_TRY(backend.list(repo::wal_prefix, [&](const storage::ObjectInfo& o) {
    wal.push_back(o.name);
    return util::Status{};
  }));
  for (auto& name : wal) {
    auto plain = repo.load_object(repo::ObjectType::wal_entry, name);
    if (!plain && plain.error().kind == ErrorKind::not_found) continue;  // removed meanwhile
    if (!plain) {
      auto sealed = backend.get(name);
      if (sealed && repo.shredded_domain_of(*sealed)) {
        scan.shredded_wal.push_back(name);
        continue;
      }
      return fail(plain.error().context("prune cannot read WAL entry '" + name + "'"));
    }
    BKP_ASSIGN(auto entry, repo::WalEntry::decode(*plain));
    scan.wal.emplace_back(name, std::move(entry));
  }
  BKP_TRY(backend.list("index/", [&](const storage::ObjectInfo& o) {
    scan.segments.push_back(o.name);
    return util::Status{};
  }));
  for (auto& name : scan.segments) {
    BKP_ASSIGN(auto plain, repo.load_object(repo::ObjectType::index, name));
    BKP_ASSIGN(auto packs, repo::decode_index(plain));
    for (auto& ip : packs) {
      auto& p = scan.packs[ip.id];
      p.segments.push_back(name);
      // A pack named by two segments (a repeated write after a crash) has
      // the same entries in both.
      if (!p.entries.empty()) continue;
      p.entries = ip.blobs;
      for (std::size_t i = 0; i < ip.blobs.size(); ++i)
        scan.blobs[ip.blobs[i].id].emplace_back(ip.id, i);
    }
  }
  // Packs after segments: a segment names only packs that were durable
  // before it was written, so a pack a listed segment names and the
  // listing lacks is really gone (not a backup's pack written meanwhile).
  BKP_TRY(backend.list("data/", [&](const storage::ObjectInfo& o) {
    auto id = repo::parse_pack_name(o.name);
    if (!id) return util::Status{};
    auto& p = scan.packs[*id];
    p.stored = true;
    p.size = o.size;
    return util::Status{};
  }));
  return {};
}

util::Result<BlobSet> referenced_blobs(repo::Repository& repo, const RepoScan& scan,
                                       const std::vector<const repo::Snapshot*>& roots,
                                       const std::set<std::string>& wal_gone) {
  BlobSet seen;
  std::deque<repo::BlobId> queue;
  for (auto* s : roots) {
    if (seen.insert(s->tree).second) queue.push_back(s->tree);
  }
  while (!queue.empty()) {
    auto id = queue.front();
    queue.pop_front();
    auto where = scan.blobs.find(id);
    util::Result<util::Bytes> data = fail(ErrorKind::verification, "not in any index segment");
    if (where != scan.blobs.end()) {
      for (auto& [pack_id, index] : where->second) {
        auto& pack = scan.packs.at(pack_id);
        if (!pack.stored) continue;
        auto& e = pack.entries[index];
        repo::BlobLocation loc{e.id, e.type, pack_id, e.offset, e.length, e.raw_length};
        auto sealed = repo.backend().get_range(repo::pack_object_name(pack_id), e.offset, e.length);
        if (!sealed) {
          data = sealed.propagate();
          continue;
        }
        data = repo.decode_blob(loc, *sealed);
        if (data) break;
      }
    }
    if (!data) {
      return fail(ErrorKind::verification, "prune cannot read tree " + util::to_hex(id) + ": " +
                                               data.error().message +
                                               " (nothing was deleted; run bkp verify)");
    }
    BKP_ASSIGN(auto tree, decode_tree(*data));
    for (auto& n : tree.nodes) {
      seen.insert(n.content.begin(), n.content.end());
      if (n.subtree && seen.insert(*n.subtree).second) queue.push_back(*n.subtree);
    }
  }
  for (auto& [name, entry] : scan.wal) {
    if (wal_gone.count(name)) continue;
    for (auto& c : entry.chunks) seen.insert(c.id);
  }
  return seen;
}

const std::pair<repo::PackId, std::size_t>* keeper_of(const RepoScan& scan,
                                                      const std::set<repo::PackId>& marked,
                                                      const repo::BlobId& id) {
  auto where = scan.blobs.find(id);
  if (where == scan.blobs.end()) return nullptr;
  const std::pair<repo::PackId, std::size_t>* fallback = nullptr;
  for (auto& loc : where->second) {
    if (!scan.packs.at(loc.first).stored) continue;
    if (!marked.count(loc.first)) return &loc;
    if (!fallback) fallback = &loc;
  }
  return fallback;
}

}  // namespace bkp::engine
