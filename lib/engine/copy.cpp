#include "engine/copy.hpp"

#include <algorithm>
#include <deque>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "engine/blob_prefetch.hpp"
#include "engine/prune.hpp"
#include "engine/tree_walk.hpp"
#include "repo/forget_record.hpp"
#include "util/time.hpp"

namespace bkp::engine {

using repo::BlobId;
using repo::BlobType;
using util::ErrorKind;
using util::fail;

std::uint64_t CopyReport::copied() const {
  return static_cast<std::uint64_t>(
      std::count_if(snapshots.begin(), snapshots.end(), [](auto& s) { return s.copied; }));
}
std::uint64_t CopyReport::skipped() const { return snapshots.size() - copied(); }
std::uint64_t CopyReport::forgotten() const {
  return static_cast<std::uint64_t>(
      std::count_if(snapshots.begin(), snapshots.end(), [](auto& s) { return s.forgotten; }));
}

util::Result<std::vector<std::string>> stored_snapshot_ids(repo::Repository& repo) {
  std::vector<std::string> ids;
  constexpr std::string_view prefix = "snapshots/";
  BKP_TRY(repo.backend().list(std::string(prefix), [&](const storage::ObjectInfo& o) {
    if (o.name.size() == prefix.size() + 64) ids.push_back(o.name.substr(prefix.size()));
    return util::Status{};
  }));
  std::sort(ids.begin(), ids.end());
  return ids;
}

namespace {

// Chunks read from the source are decoded on every core ahead of the
// thread that hands them to the target's seal pool; this many locations
// wait in the queue at most.
constexpr std::size_t kQueued = 256;

class Copier {
 public:
  Copier(repo::Repository& source, repo::Repository& target, bool same_ids)
      : src_(source), dst_(target), same_(same_ids), prefetch_(source) {}

  // Writes every chunk of the snapshot the target lacks, then its trees;
  // returns the target's root tree id.
  util::Result<BlobId> copy(const BlobId& root) {
    TreeVisitor v;
    v.enter = [&](const std::string&, const TreeNode& node) -> util::Result<Descend> {
      if (!node.content.empty()) BKP_TRY(queue_chunks(node.content));
      return Descend::yes;
    };
    BKP_TRY(walk_tree(src_, root, v));
    while (!waiting_.empty()) BKP_TRY(take_one());
    return copy_tree(root);
  }

  std::uint64_t blobs_read() const { return blobs_read_; }

 private:
  util::Status queue_chunks(const std::vector<BlobId>& ids) {
    std::vector<bool> present;
    if (same_) present = dst_.has_blobs(ids);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const BlobId& id = ids[i];
      if (same_ ? bool(present[i]) : mapped_.count(id) != 0) continue;
      if (!queued_.insert(id).second) continue;
      BKP_ASSIGN(auto loc, src_.locate_blob(id));
      prefetch_.push(loc);
      waiting_.push_back(id);
      while (waiting_.size() > kQueued) BKP_TRY(take_one());
    }
    return {};
  }

  // The oldest queued chunk: decoded (and checked against its id) by the
  // source, stored by the target under the target's id for it.
  util::Status take_one() {
    BlobId id = waiting_.front();
    waiting_.pop_front();
    auto data = prefetch_.next();
    if (!data) return fail(data.error().context("reading chunk " + util::to_hex(id)));
    ++blobs_read_;
    BlobId target_id = same_ ? id : dst_.blob_id(*data);
    BKP_TRY(dst_.save_blob(BlobType::data, *data, target_id));
    if (!same_) mapped_.emplace(id, target_id);
    // The target now answers has_blob() for it (pending or indexed).
    queued_.erase(id);
    return {};
  }

  // Trees are always walked in full: a tree the target has does not prove
  // that everything under it survived a prune there.
  util::Result<BlobId> copy_tree(const BlobId& id) {
    if (!same_) {
      if (auto it = mapped_.find(id); it != mapped_.end()) return it->second;
    }
    BKP_ASSIGN(auto bytes, src_.load_blob(id));
    ++blobs_read_;
    auto tree = decode_tree(bytes);
    if (!tree) {
      return fail(ErrorKind::verification,
                  "tree " + util::to_hex(id) + ": " + tree.error().message);
    }
    for (auto& node : tree->nodes) {
      if (node.subtree) {
        BKP_ASSIGN(*node.subtree, copy_tree(*node.subtree));
      }
      if (same_) continue;
      for (auto& c : node.content) {
        auto it = mapped_.find(c);
        if (it == mapped_.end()) {
          return fail(ErrorKind::verification,
                      "chunk " + util::to_hex(c) + " of '" + node.meta.name + "' was not copied");
        }
        c = it->second;
      }
    }
    if (same_) {
      // The bytes as stored, so the tree keeps its id in the target.
      BKP_TRY(dst_.save_blob(BlobType::tree, bytes, id));
      return id;
    }
    auto encoded = encode_tree(*tree);
    BlobId target_id = dst_.blob_id(encoded);
    BKP_TRY(dst_.save_blob(BlobType::tree, encoded, target_id));
    mapped_.emplace(id, target_id);
    return target_id;
  }

  repo::Repository& src_;
  repo::Repository& dst_;
  bool same_;
  BlobPrefetcher prefetch_;
  std::deque<BlobId> waiting_;  // ids pushed to prefetch_, oldest first
  std::unordered_set<BlobId, repo::IdHash> queued_;
  // Different chunk-id keys: source id -> target id of every chunk and tree
  // copied or found so far in this run.
  std::unordered_map<BlobId, BlobId, repo::IdHash> mapped_;
  std::uint64_t blobs_read_ = 0;
};

bool same_chunk_ids(const repo::Repository& a, const repo::Repository& b) {
  auto ka = a.keyring().chunk_id_key.view(), kb = b.keyring().chunk_id_key.view();
  return ka.size() == kb.size() && std::equal(ka.begin(), ka.end(), kb.begin());
}

// The snapshots to copy, oldest first (a parent before its children), with
// those the target has already as ids only: their manifests are not read,
// so a copy that finds nothing new reads nothing but the catalog.
struct Chosen {
  std::optional<repo::Snapshot> snap;  // nullopt: present in the target
  CopiedSnapshot row;
};

util::Result<std::vector<Chosen>> chosen_snapshots(repo::Repository& source,
                                                   const CopyOptions& options,
                                                   const std::set<std::string>& present,
                                                   const std::set<std::string>& forgotten) {
  std::vector<std::string> ids = options.snapshot_ids;
  const bool all = ids.empty();
  if (all) {
    catalog::BackupFilter f;
    f.source = options.filter.source;
    BKP_ASSIGN(auto rows, source.catalog().list_backups(f));
    for (auto& row : rows)
      if (row.status == "completed" || row.status == "partial") ids.push_back(row.id);
  }
  std::vector<Chosen> out;
  std::set<std::string> seen;
  for (auto& id : ids) {
    if (!seen.insert(id).second) continue;
    BKP_ASSIGN(auto row, source.catalog().get_backup(id));
    if (!row) return fail(ErrorKind::not_found, "no snapshot '" + id + "' in the source");
    Chosen c;
    c.row.id = id;
    c.row.source_name = row->database_name;
    c.row.time = row->created_at;
    c.row.forgotten = all && forgotten.count(id) != 0 && present.count(id) == 0;
    c.row.copied = present.count(id) == 0 && !c.row.forgotten;
    if (c.row.copied) {
      BKP_ASSIGN(c.snap, source.load_snapshot(id));
    }
    out.push_back(std::move(c));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](auto& a, auto& b) { return a.row.time < b.row.time; });
  return out;
}

}  // namespace

util::Result<CopyReport> copy_snapshots(repo::Repository& source, repo::Repository& target,
                                        const CopyOptions& options,
                                        const CopyProgressFn& progress) {
  BKP_TRY(source.may_read("copy snapshots out of it"));
  if (source.config().id == target.config().id) {
    return fail(ErrorKind::usage, "source and target are the same repository (id " +
                                      source.config().id.substr(0, 8) + ")");
  }
  BKP_ASSIGN(auto present_ids, stored_snapshot_ids(target));
  std::set<std::string> present(present_ids.begin(), present_ids.end());
  // Names only: the target may be opened with a backup slot. A forged name
  // can stop a copy, never delete anything; verify --replicas reads them.
  BKP_ASSIGN(auto forgotten, forgotten_names(target));
  BKP_ASSIGN(auto chosen, chosen_snapshots(source, options, present, forgotten));

  CopyReport report;
  report.same_chunk_ids = same_chunk_ids(source, target);
  std::optional<Copier> copier;
  for (auto& [snap, row] : chosen) {
    if (snap && !options.dry_run) {
      if (!copier) copier.emplace(source, target, report.same_chunk_ids);
      const repo::WriteStats before = target.write_stats();
      auto root = copier->copy(snap->tree);
      if (!root) {
        return fail(root.error().context("copying snapshot " + snap->id.substr(0, 8)));
      }
      repo::Snapshot out = *snap;
      out.tree = *root;
      out.extra["copied_from"] = {{"repository", source.config().id},
                                  {"tree", util::to_hex(snap->tree)},
                                  {"time", util::now_rfc3339()}};
      if (auto st = target.save_snapshot(out); !st) {
        return fail(st.error().context("writing snapshot " + snap->id.substr(0, 8)));
      }
      // Named explicitly: no longer forgotten there.
      if (forgotten.count(snap->id))
        BKP_TRY(target.backend().remove(std::string(repo::forget_record_prefix) + snap->id));
      const auto& after = target.write_stats();
      row.blobs_new = after.blobs_new - before.blobs_new;
      row.raw_bytes_new = after.raw_bytes_new - before.raw_bytes_new;
      row.stored_bytes_new = after.stored_bytes_new - before.stored_bytes_new;
    }
    if (progress) progress(row);
    report.snapshots.push_back(std::move(row));
  }
  if (copier) report.blobs_read = copier->blobs_read();
  return report;
}

}  // namespace bkp::engine
