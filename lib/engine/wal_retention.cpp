#include "engine/wal_retention.hpp"

#include <cstdlib>
#include <map>
#include <unordered_map>

#include "engine/postgres_pitr.hpp"
#include "engine/wal.hpp"
#include "engine/wal_continuity.hpp"
#include "repo/envelope.hpp"

namespace bkp::engine {

using util::ErrorKind;
using util::fail;

namespace {

bool hex24(std::string_view s) {
  if (s.size() != 24) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) return false;
  return true;
}

std::uint32_t timeline_of(std::string_view name) {
  return std::uint32_t(std::strtoul(std::string(name.substr(0, 8)).c_str(), nullptr, 16));
}

// A segment or .partial file: its 24-digit segment name; else "".
std::string segment_part(const std::string& file) {
  if (hex24(file)) return file;
  if (file.size() == 32 && file.ends_with(".partial") && hex24(file.substr(0, 24)))
    return file.substr(0, 24);
  return {};
}

std::set<repo::PackId> going_packs(const PrunePlan& plan) {
  std::set<repo::PackId> going(plan.delete_now.begin(), plan.delete_now.end());
  for (auto& p : plan.mark) going.insert(p.id);
  for (auto& p : plan.repack) going.insert(p.id);
  return going;
}

bool stays(const RepoScan& scan, const std::set<repo::PackId>& going, const repo::PackId& id) {
  auto it = scan.packs.find(id);
  return it != scan.packs.end() && it->second.stored && !going.count(id);
}

}  // namespace

util::Result<std::set<std::string>> unneeded_wal(repo::Repository& repo, const WalObjects& wal,
                                                 const std::vector<const repo::Snapshot*>& kept) {
  std::set<std::string> out;
  struct Base {
    std::uint32_t timeline;
    std::string start;  // 24-digit segment name
  };
  std::vector<Base> bases;
  for (auto* s : kept) {
    if (!is_pg_physical(*s)) continue;
    auto start = s->extra.value("wal_start", "");
    if (!hex24(start)) return out;  // cannot tell what it needs: keep all
    bases.push_back({timeline_of(start), start});
  }
  if (bases.empty()) return out;

  // Each base backup's ancestor timelines, from its timeline's .history
  // file (timeline 1 has none and no ancestors). A history that is not
  // archived or not readable leaves the ancestors unknown: their WAL stays.
  std::map<std::uint32_t, std::set<std::uint32_t>> ancestors;
  for (auto& b : bases) {
    if (b.timeline <= 1 || ancestors.count(b.timeline)) continue;
    char name[32];
    std::snprintf(name, sizeof name, "%08X.history", b.timeline);
    auto data = wal_read(repo, name);
    if (!data && data.error().kind != ErrorKind::not_found) return data.propagate();
    auto& set = ancestors[b.timeline];
    if (data)
      for (auto& sw : parse_timeline_history(*data)) set.insert(sw.parent);
  }

  for (auto& [object, entry] : wal) {
    auto segment = segment_part(entry.name);
    if (segment.empty()) continue;  // .history and .backup files are kept
    const auto tl = timeline_of(segment);
    bool needed = false;
    for (auto& b : bases) {
      if (tl == b.timeline) {
        // Within a timeline, names sort in LSN order.
        if (segment >= b.start) needed = true;
      } else if (!ancestors[b.timeline].count(tl)) {
        needed = true;  // a descendant, or no known relation
      }
      if (needed) break;
    }
    if (!needed) out.insert(object);
  }
  return out;
}

util::Status rewrite_wal_entry(repo::Repository& repo, const std::string& object,
                               const repo::WalEntry& entry) {
  // A key domain's entry stays under the domain's key (wal-push
  // --key-domain), so that shredding the domain still erases it.
  const repo::DataKey* key = &repo.keyring().current_key();
  if (auto old = repo.backend().get(object)) {
    auto header = repo::peek_envelope(*old);
    if (header && repo.keyring().domain_of(header->key_id)) {
      if (const auto* k = repo.find_key(header->key_id)) key = k;
    }
  }
  auto sealed = repo::seal_object(repo::ObjectType::wal_entry, key->id, key->key, entry.encode(),
                                  util::as_bytes(object));
  // Atomic replacement: a reader sees the old entry or the new one, never a
  // mix; the old one's packs stay until phase 2 (and if they are gone,
  // wal-fetch finds the blob through the catalog).
  return repo.backend().put(object, sealed, storage::WriteMode::overwrite);
}

std::set<std::string> plan_wal_retention(const RepoScan& scan,
                                         const std::set<std::string>& unneeded,
                                         const std::set<std::string>& marked_wal,
                                         const std::set<std::string>& due_wal,
                                         std::int64_t grace_ns, PrunePlan& plan) {
  std::set<std::string> gone;
  for (auto& [object, entry] : scan.wal) {
    if (!unneeded.count(object)) continue;  // needed again since it was marked: kept
    // --grace 0 says nobody reads the archive meanwhile (a restore running
    // from a base backup this run forgets would lose its WAL).
    const bool now = due_wal.count(object) || grace_ns == 0;
    if (!marked_wal.count(object)) {
      plan.wal_mark.push_back(object);
      if (!now) plan.wal_bytes_marked += entry.size;
    }
    if (now) {
      plan.wal_delete_now.push_back(object);
      plan.wal_bytes_freed += entry.size;
      gone.insert(object);
    }
  }
  return gone;
}

void plan_wal_rewrites(const RepoScan& scan, const std::set<std::string>& wal_gone,
                       PrunePlan& plan) {
  auto going = going_packs(plan);
  for (auto& [object, entry] : scan.wal) {
    if (wal_gone.count(object)) continue;
    for (auto& c : entry.chunks) {
      if (stays(scan, going, c.pack)) continue;
      plan.wal_rewrite.push_back(object);
      break;
    }
  }
}

util::Status rewrite_wal_entries(repo::Repository& repo, const RepoScan& scan,
                                 const std::set<repo::PackId>& marked,
                                 const std::vector<repo::IndexedPack>& moved,
                                 const PrunePlan& plan) {
  if (plan.wal_rewrite.empty()) return {};
  std::unordered_map<repo::BlobId, repo::BlobLocation, repo::IdHash> copies;
  for (auto& ip : moved)
    for (auto& b : ip.blobs) copies[b.id] = {b.id, b.type, ip.id, b.offset, b.length, b.raw_length};
  std::map<std::string, const repo::WalEntry*> by_name;
  for (auto& [object, entry] : scan.wal) by_name[object] = &entry;
  auto going = going_packs(plan);
  for (auto& object : plan.wal_rewrite) {
    auto entry = *by_name.at(object);
    for (auto& c : entry.chunks) {
      if (stays(scan, going, c.pack)) continue;
      if (auto copy = copies.find(c.id); copy != copies.end()) {
        c = copy->second;
        continue;
      }
      const auto* keep = keeper_of(scan, marked, c.id);
      if (!keep || going.count(keep->first)) {
        return fail(ErrorKind::verification, "WAL file '" + entry.name + "': chunk " +
                                                 util::to_hex(c.id) +
                                                 " has no copy that stays; run bkp verify");
      }
      auto& e = scan.packs.at(keep->first).entries[keep->second];
      c = {e.id, e.type, keep->first, e.offset, e.length, e.raw_length};
    }
    BKP_TRY(rewrite_wal_entry(repo, object, entry));
  }
  return {};
}

}  // namespace bkp::engine
