// Prune: retention policy, then garbage collection in two phases.
//
// Phase 1 (mark): packs no remaining snapshot or WAL entry needs are named
// in a new prune mark with a deadline (now + grace); packs that are partly
// garbage first have their live blobs copied (sealed bytes as they are) to
// new packs and a new index segment, then are marked too.
// Phase 2 (delete), for marks whose deadline had passed when this run
// started: packs that are still unneeded (re-checked against every
// snapshot in storage now, including ones written since the mark) are
// deleted, after the index segments naming them are rewritten; packs that
// became needed again are kept. The mark goes last, so a run killed at any
// point is finished by the next. Why this never races a backup: doc/prune.md.
#include "engine/prune.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "engine/prune_scan.hpp"
#include "engine/wal_retention.hpp"
#include "repo/envelope.hpp"
#include "util/host.hpp"
#include "util/time.hpp"

namespace bkp::engine {

using util::ErrorKind;
using util::fail;

namespace {

// Retention: which snapshots go. Each source's snapshots follow its own
// policy when it has one, else the general one; an empty policy keeps all.
util::Status apply_policy(repo::Repository& repo, const RepoScan& scan, const PruneOptions& o,
                          PrunePlan& plan) {
  if (o.policy.empty() && o.source_policies.empty()) return {};
  BKP_ASSIGN(auto holds, repo.list_holds());
  std::set<std::string> held;
  for (auto& h : holds) held.insert(h.snapshot);
  std::map<const RetentionPolicy*, std::vector<PolicyInput>> inputs;
  for (auto& s : scan.snapshots) {
    if (!o.source.empty() && s.source_name != o.source) continue;
    const RetentionPolicy* policy = &o.policy;
    if (auto own = o.source_policies.find(s.source_name); own != o.source_policies.end())
      policy = &own->second;
    if (policy->empty()) continue;
    auto t = util::parse_rfc3339(s.time);
    if (!t) return fail(ErrorKind::corrupt, "snapshot '" + s.id + "' has a bad time");
    inputs[policy].push_back(
        {s.id, *t, s.source_name + "@" + s.hostname, s.tags, held.count(s.id) > 0});
  }
  for (auto& [policy, group] : inputs) {
    auto decisions = apply_retention(group, *policy);
    plan.decisions.insert(plan.decisions.end(), decisions.begin(), decisions.end());
  }
  for (auto& d : plan.decisions)
    if (!d.keep) plan.forget.push_back(d.id);
  return {};
}

struct Decided {
  // The packs whose blobs must survive: which entries of each are live.
  std::map<repo::PackId, std::vector<std::size_t>> live;
  std::set<repo::PackId> delete_now;
};

util::Status decide_packs(const RepoScan& scan, const BlobSet& referenced,
                          const std::set<repo::PackId>& marked, const std::set<repo::PackId>& due,
                          const PruneOptions& o, PrunePlan& plan, Decided& out) {
  // Each referenced blob gets one keeper copy: in an unmarked stored pack
  // if there is one, else in a marked one (which is then needed again).
  std::set<repo::PackId> needed_marked;
  for (auto& id : referenced) {
    const auto* keep = keeper_of(scan, marked, id);
    if (!keep) {
      return fail(ErrorKind::verification,
                  "blob " + util::to_hex(id) +
                      " is referenced but stored in no pack: nothing was deleted; run bkp verify");
    }
    out.live[keep->first].push_back(keep->second);
    if (marked.count(keep->first)) needed_marked.insert(keep->first);
  }
  // Phase 2 candidates.
  for (auto& pid : due) {
    auto it = scan.packs.find(pid);
    if (it == scan.packs.end() || !it->second.stored) continue;  // already gone
    if (needed_marked.count(pid)) {
      plan.kept_marked.push_back(pid);
      continue;
    }
    out.delete_now.insert(pid);
    plan.delete_now.push_back(pid);
    plan.bytes_freed_now += it->second.size;
  }
  // Phase 1 candidates: stored, unmarked packs.
  std::uint64_t repack_budget = o.max_repack_size;
  std::vector<PackStat> partial;
  for (auto& [pid, pack] : scan.packs) {
    if (!pack.stored || marked.count(pid)) continue;
    ++plan.packs_total;
    PackStat st{pid, pack.size, 0};
    if (auto l = out.live.find(pid); l != out.live.end()) {
      for (auto i : l->second) st.live_bytes += pack.entries[i].length;
    }
    if (st.live_bytes == 0) {
      plan.mark.push_back(st);
      plan.bytes_marked += st.size;
      continue;
    }
    if (o.rewrite.count(pid)) {  // a key rotation: outside threshold and budget
      plan.repack.push_back(st);
      plan.bytes_repacked += st.live_bytes;
      plan.bytes_marked += st.size;
      continue;
    }
    // Unused blobs only: a pack's header is overhead, not garbage.
    std::uint64_t blob_bytes = 0;
    for (auto& e : pack.entries) blob_bytes += e.length;
    if (blob_bytes <= st.live_bytes) continue;
    double garbage = 100.0 * static_cast<double>(blob_bytes - st.live_bytes) /
                     static_cast<double>(std::max<std::uint64_t>(st.size, 1));
    if (garbage >= o.repack_threshold) partial.push_back(st);
  }
  // A marked pack that holds a keeper sealed with a key being retired: its
  // live blobs move too (it stays marked).
  for (auto& pid : needed_marked) {
    if (!o.rewrite.count(pid)) continue;
    auto& pack = scan.packs.at(pid);
    PackStat st{pid, pack.size, 0};
    for (auto i : out.live.at(pid)) st.live_bytes += pack.entries[i].length;
    plan.repack.push_back(st);
    plan.bytes_repacked += st.live_bytes;
  }
  // Most garbage first, within the copy budget.
  std::sort(partial.begin(), partial.end(), [](const PackStat& a, const PackStat& b) {
    return a.size - a.live_bytes > b.size - b.live_bytes;
  });
  for (auto& st : partial) {
    if (st.live_bytes > repack_budget) continue;
    repack_budget -= st.live_bytes;
    plan.repack.push_back(st);
    plan.bytes_repacked += st.live_bytes;
    plan.bytes_marked += st.size;
  }
  // Segments that name a pack that is gone or going.
  std::set<std::string> affected;
  for (auto& [pid, pack] : scan.packs) {
    if (pack.stored && !out.delete_now.count(pid)) continue;
    affected.insert(pack.segments.begin(), pack.segments.end());
  }
  plan.rewrite_segments.assign(affected.begin(), affected.end());
  return {};
}

util::Status put_index(repo::Repository& repo, const std::vector<repo::IndexedPack>& packs) {
  if (packs.empty()) return {};
  auto name = repo::new_index_name();
  auto& key = repo.keyring().index_sealing_key();
  auto sealed = repo::seal_object(repo::ObjectType::index, key.id, key.key,
                                  repo::encode_index(packs), util::as_bytes(name));
  return repo.backend().put(name, sealed, storage::WriteMode::create_only);
}

// A blob sealed again with the current key (same plaintext, same length).
util::Result<util::Bytes> reseal_blob(repo::Repository& repo, const repo::PackHeaderEntry& e,
                                      util::ByteView sealed) {
  BKP_ASSIGN(auto header, repo::peek_envelope(sealed));
  const repo::DataKey* key = repo.find_key(header.key_id);
  if (!key) {
    return fail(ErrorKind::verification, "blob " + util::to_hex(e.id) + " uses an unknown key");
  }
  auto type =
      e.type == repo::BlobType::tree ? repo::ObjectType::tree_blob : repo::ObjectType::data_blob;
  BKP_ASSIGN(auto plain, repo::open_object(type, key->key, sealed, e.id));
  auto& current = repo.keyring().current_key();
  auto out = repo::seal_object(type, current.id, current.key, plain, e.id);
  util::wipe(plain.data(), plain.size());
  return out;
}

bool sealed_with(util::ByteView sealed, const std::set<repo::KeyId>& keys) {
  if (keys.empty()) return false;
  auto header = repo::peek_envelope(sealed);
  return header && keys.count(header->key_id) > 0;
}

// Copies the live blobs of `plan.repack` into new packs (sealed bytes as
// they are: no key needed to move them, except for blobs sealed with a key
// being retired), then one index segment for them. Returns the packs written.
util::Result<std::vector<repo::IndexedPack>> repack(repo::Repository& repo, const RepoScan& scan,
                                                    const Decided& decided, const PrunePlan& plan,
                                                    const std::set<repo::KeyId>& reseal) {
  repo::PackWriter writer;
  std::vector<repo::IndexedPack> written;
  auto finish = [&]() -> util::Status {
    if (writer.empty()) return {};
    auto f = writer.finish(repo.keyring().current_key());
    auto st =
        repo.backend().put(repo::pack_object_name(f.id), f.bytes, storage::WriteMode::create_only);
    if (!st && st.error().kind != ErrorKind::exists) return st;
    repo::IndexedPack ip{f.id, {}};
    for (auto& b : f.blobs) ip.blobs.push_back({b.type, b.id, b.offset, b.length, b.raw_length});
    written.push_back(std::move(ip));
    return {};
  };
  for (auto& st : plan.repack) {
    auto& pack = scan.packs.at(st.id);
    BKP_ASSIGN(auto bytes, repo.backend().get(repo::pack_object_name(st.id)));
    for (auto i : decided.live.at(st.id)) {
      auto& e = pack.entries[i];
      if (std::uint64_t{e.offset} + e.length > bytes.size()) {
        return fail(ErrorKind::verification,
                    "pack '" + repo::pack_object_name(st.id) + "' is shorter than its index says");
      }
      util::ByteView sealed(bytes.data() + e.offset, e.length);
      // Checked before it is copied: a damaged blob must not look repaired.
      repo::BlobLocation loc{e.id, e.type, st.id, e.offset, e.length, e.raw_length};
      BKP_TRY(repo.decode_blob(loc, sealed));
      if (sealed_with(sealed, reseal)) {
        BKP_ASSIGN(auto resealed, reseal_blob(repo, e, sealed));
        writer.add(e.type, e.id, resealed, e.raw_length);
      } else {
        writer.add(e.type, e.id, sealed, e.raw_length);
      }
      if (writer.size() >= repo.config().pack_size) BKP_TRY(finish());
    }
  }
  BKP_TRY(finish());
  BKP_TRY(put_index(repo, written));
  return written;
}

// Phase 2 for the packs decided: segments first, then packs, then marks.
util::Status delete_marked(repo::Repository& repo, const RepoScan& scan, const Decided& decided,
                           const PrunePlan& plan) {
  std::set<std::string> rewrite(plan.rewrite_segments.begin(), plan.rewrite_segments.end());
  std::vector<repo::IndexedPack> kept;
  for (auto& [pid, pack] : scan.packs) {
    if (!pack.stored || decided.delete_now.count(pid) || pack.entries.empty()) continue;
    bool in_rewritten = std::any_of(pack.segments.begin(), pack.segments.end(),
                                    [&](const std::string& s) { return rewrite.count(s) > 0; });
    bool elsewhere = std::any_of(pack.segments.begin(), pack.segments.end(),
                                 [&](const std::string& s) { return rewrite.count(s) == 0; });
    if (in_rewritten && !elsewhere) kept.push_back({pid, pack.entries});
  }
  BKP_TRY(put_index(repo, kept));
  // WAL entries before packs, like snapshots before their data.
  for (auto& name : plan.wal_delete_now) {
    auto st = repo.backend().remove(name);
    if (!st && st.error().kind != ErrorKind::not_found) return st;
  }
  for (auto& name : plan.rewrite_segments) BKP_TRY(repo.backend().remove(name));
  for (auto& pid : plan.delete_now) BKP_TRY(repo.backend().remove(repo::pack_object_name(pid)));
  for (auto& name : plan.due_marks) BKP_TRY(repo.backend().remove(name));
  return {};
}

}  // namespace

nlohmann::json PrunePlan::to_json() const {
  auto packs = [](const std::vector<PackStat>& v) {
    nlohmann::json a = nlohmann::json::array();
    for (auto& p : v)
      a.push_back({{"pack", util::to_hex(p.id)}, {"size", p.size}, {"live_bytes", p.live_bytes}});
    return a;
  };
  auto ids = [](const std::vector<repo::PackId>& v) {
    std::vector<std::string> a;
    for (auto& p : v) a.push_back(util::to_hex(p));
    return a;
  };
  nlohmann::json kept = nlohmann::json::array();
  for (auto& d : decisions)
    if (d.keep) kept.push_back({{"id", d.id}, {"reasons", d.reasons}});
  return {{"snapshots_removed", forget},
          {"snapshots_kept", kept},
          {"packs_marked", packs(mark)},
          {"packs_repacked", packs(repack)},
          {"packs_deleted", ids(delete_now)},
          {"packs_kept_marked", ids(kept_marked)},
          {"marks_finished", due_marks},
          {"index_segments_rewritten", rewrite_segments},
          {"bytes_freed", bytes_freed_now},
          {"bytes_marked", bytes_marked},
          {"bytes_repacked", bytes_repacked},
          {"packs", packs_total},
          {"snapshots", snapshots_total},
          {"delete_after", delete_after},
          {"wal_marked", wal_mark},
          {"wal_deleted", wal_delete_now},
          {"wal_bytes_marked", wal_bytes_marked},
          {"wal_bytes_freed", wal_bytes_freed},
          {"wal_entries_rewritten", wal_rewrite}};
}

util::Result<PrunePlan> prune_repository(repo::Repository& repo, const PruneOptions& o) {
  BKP_TRY(repo.may_delete());
  bool dry = o.dry_run == DryRun::yes;
  // Taken before anything is listed, so everything the previous holder
  // did is in what this run reads.
  std::unique_ptr<repo::PruneLeaseHolder> lease;
  if (!dry) {
    BKP_ASSIGN(lease, repo::PruneLeaseHolder::acquire(repo, o.lease_ns));
  }
  auto start = util::now_ns();
  PrunePlan plan;
  RepoScan scan;
  BKP_TRY(scan_repository(repo, scan));
  plan.snapshots_total = scan.snapshots.size() + scan.shredded.size();
  BKP_TRY(apply_policy(repo, scan, o, plan));
  if (!o.forget.empty()) {
    BKP_ASSIGN(auto holds, repo.list_holds());
    std::set<std::string> skip(plan.forget.begin(), plan.forget.end());
    for (auto& h : holds) skip.insert(h.snapshot);
    for (auto& s : scan.snapshots)
      if (o.forget.count(s.id) && !skip.count(s.id)) plan.forget.push_back(s.id);
  }
  plan.forget.insert(plan.forget.end(), scan.shredded.begin(), scan.shredded.end());

  // Marks whose deadline had passed before anything else was listed.
  std::set<repo::PackId> marked, due;
  std::set<std::string> marked_wal, due_wal;
  for (auto& [name, mark] : scan.marks) {
    marked.insert(mark.packs.begin(), mark.packs.end());
    marked_wal.insert(mark.wal.begin(), mark.wal.end());
    auto deadline = util::parse_rfc3339(mark.delete_after);
    if (!deadline) return fail(ErrorKind::corrupt, "prune mark '" + name + "' has a bad time");
    // --grace 0 says no backup runs meanwhile: every mark may finish now.
    if (*deadline <= start || o.grace_ns == 0) {
      plan.due_marks.push_back(name);
      due.insert(mark.packs.begin(), mark.packs.end());
      due_wal.insert(mark.wal.begin(), mark.wal.end());
    }
  }
  std::set<std::string> forget(plan.forget.begin(), plan.forget.end());
  std::vector<const repo::Snapshot*> roots;
  for (auto& s : scan.snapshots)
    if (!forget.count(s.id)) roots.push_back(&s);
  // WAL retention: what the kept base backups do not need is marked, and
  // deleted once a mark naming it is due; what goes now no longer counts.
  BKP_ASSIGN(auto unneeded, unneeded_wal(repo, scan.wal, roots));
  auto wal_gone = plan_wal_retention(scan, unneeded, marked_wal, due_wal, o.grace_ns, plan);
  // Unreadable for good, and not in scan.wal: nothing they name is kept.
  plan.wal_delete_now.insert(plan.wal_delete_now.end(), scan.shredded_wal.begin(),
                             scan.shredded_wal.end());
  BKP_ASSIGN(auto referenced, referenced_blobs(repo, scan, roots, wal_gone));

  Decided decided;
  BKP_TRY(decide_packs(scan, referenced, marked, due, o, plan, decided));
  plan.delete_after = util::format_rfc3339(start + o.grace_ns);
  // No grace: nothing protects a concurrent backup anyway, so the packs this
  // run marks go in this run too (the mark, written first, makes a killed
  // run resumable).
  if (o.grace_ns == 0) {
    std::vector<repo::PackId> now;
    for (auto& p : plan.mark) now.push_back(p.id);
    for (auto& p : plan.repack) now.push_back(p.id);
    for (auto& p : now) {
      plan.delete_now.push_back(p);
      decided.delete_now.insert(p);
      plan.bytes_freed_now += scan.packs.at(p).size;
    }
    plan.bytes_marked = 0;
    std::set<std::string> affected(plan.rewrite_segments.begin(), plan.rewrite_segments.end());
    for (auto& p : now) {
      auto& segs = scan.packs.at(p).segments;
      affected.insert(segs.begin(), segs.end());
    }
    plan.rewrite_segments.assign(affected.begin(), affected.end());
  }
  plan_wal_rewrites(scan, wal_gone, plan);
  if (dry) return plan;

  BKP_TRY(lease->check());
  if (!plan.forget.empty()) BKP_TRY(forget_snapshots(repo, plan.forget, DryRun::no));
  // Phase 1: copies first, so a marked pack never holds a blob's only copy.
  BKP_ASSIGN(auto moved, repack(repo, scan, decided, plan, o.reseal));
  // WAL entries name pack locations (wal-fetch reads no catalog): those
  // naming a pack about to be marked now name the copy that stays.
  BKP_TRY(rewrite_wal_entries(repo, scan, marked, moved, plan));
  repo::PruneMark mark;
  mark.created = util::format_rfc3339(start);
  mark.delete_after = plan.delete_after;
  mark.hostname = util::host_name();
  for (auto& p : plan.mark) mark.packs.push_back(p.id);
  for (auto& p : plan.repack) mark.packs.push_back(p.id);
  mark.wal = plan.wal_mark;
  BKP_TRY(lease->check());
  if (!mark.packs.empty() || !mark.wal.empty()) {
    BKP_ASSIGN(auto name, repo.write_prune_mark(mark));
    if (o.grace_ns == 0) plan.due_marks.push_back(name);
  }
  // Phase 2.
  BKP_TRY(lease->check());
  BKP_TRY(delete_marked(repo, scan, decided, plan));
  // The local catalog: new locations, retention dates.
  BKP_TRY(repo.sync_catalog());
  repo.trim_tree_cache();
  for (auto& d : plan.decisions) {
    if (!d.keep) continue;
    BKP_ASSIGN(auto row, repo.catalog().get_backup(d.id));
    if (!row || row->retention_until == d.retention_until) continue;
    row->retention_until = d.retention_until;
    BKP_TRY(repo.catalog().upsert_backup(*row));
  }
  return plan;
}

}  // namespace bkp::engine
