#include "engine/replica_check.hpp"

#include <set>

#include "engine/copy.hpp"
#include "engine/prune.hpp"
#include "engine/tree.hpp"
#include "engine/tree_walk.hpp"

namespace bkp::engine {

using repo::BlobId;

namespace {

bool same_key(const repo::Repository& a, const repo::Repository& b) {
  auto ka = a.keyring().chunk_id_key.view(), kb = b.keyring().chunk_id_key.view();
  return ka.size() == kb.size() && std::equal(ka.begin(), ka.end(), kb.begin());
}

// What a snapshot says about itself, less what a copy changes (the root
// tree id, and where it was copied from).
nlohmann::json manifest_facts(const repo::Snapshot& s) {
  auto j = s.to_json();
  j.erase("tree");
  if (j.contains("extra") && j["extra"].is_object()) j["extra"].erase("copied_from");
  return j;
}

class TreeComparer {
 public:
  TreeComparer(repo::Repository& a, repo::Repository& b) : a_(a), b_(b) {}

  // The first difference under `path`, or "" when the trees agree.
  util::Result<std::string> compare(const BlobId& ta, const BlobId& tb, const std::string& path) {
    BKP_ASSIGN(auto x, load_tree(a_, ta));
    BKP_ASSIGN(auto y, load_tree(b_, tb));
    if (x.nodes.size() != y.nodes.size()) return path + "/: different entries";
    for (std::size_t i = 0; i < x.nodes.size(); ++i) {
      auto& m = x.nodes[i];
      auto& n = y.nodes[i];
      std::string p = path + "/" + m.meta.name;
      if (shape(m) != shape(n)) return p + ": different metadata";
      if (m.content.size() != n.content.size()) return p + ": different content";
      for (std::size_t k = 0; k < m.content.size(); ++k) {
        BKP_ASSIGN(auto la, a_.locate_blob(m.content[k]));
        auto lb = b_.locate_blob(n.content[k]);
        if (!lb) return p + ": chunk " + std::to_string(k) + " missing in the replica";
        if (la.raw_length != lb->raw_length) return p + ": different content";
      }
      if (m.subtree) {
        BKP_ASSIGN(auto d, compare(*m.subtree, *n.subtree, p));
        if (!d.empty()) return d;
      }
    }
    return std::string();
  }

 private:
  // A node's encoding with its ids blanked: equal for equal metadata.
  static util::Bytes shape(const TreeNode& node) {
    Tree t;
    t.nodes.push_back(node);
    for (auto& c : t.nodes[0].content) c = BlobId{};
    if (t.nodes[0].subtree) t.nodes[0].subtree = BlobId{};
    return encode_tree(t);
  }

  repo::Repository& a_;
  repo::Repository& b_;
};

}  // namespace

util::Result<ReplicaReport> compare_replica(repo::Repository& primary, repo::Repository& replica) {
  BKP_TRY(replica.may_read("compare its snapshots"));
  ReplicaReport report;
  BKP_ASSIGN(auto in_replica_ids, stored_snapshot_ids(replica));
  std::set<std::string> in_replica(in_replica_ids.begin(), in_replica_ids.end());
  BKP_ASSIGN(auto primary_ids, stored_snapshot_ids(primary));
  std::set<std::string> in_primary(primary_ids.begin(), primary_ids.end());
  // Read and authenticated: a forged record must not hide a lost snapshot.
  BKP_ASSIGN(auto forgotten, forgotten_snapshots(replica));
  const bool same = same_key(primary, replica);
  TreeComparer trees(primary, replica);
  for (auto& id : primary_ids) {
    ++report.snapshots;
    if (!in_replica.count(id)) {
      (forgotten.count(id) ? report.forgotten : report.missing).push_back(id);
      continue;
    }
    BKP_ASSIGN(auto a, primary.load_snapshot(id));
    auto b = replica.load_snapshot(id);
    if (!b) {
      report.differences.push_back(id + ": cannot be read in the replica: " + b.error().message);
      continue;
    }
    if (manifest_facts(a) != manifest_facts(*b)) {
      report.differences.push_back(id +
                                   ": the manifests differ (time, host, paths, tags or "
                                   "statistics)");
      continue;
    }
    if (same) {
      if (a.tree != b->tree) report.differences.push_back(id + ": different root tree");
      continue;
    }
    auto d = trees.compare(a.tree, b->tree, "");
    if (!d) {
      report.differences.push_back(id + ": " + d.error().message);
    } else if (!d->empty()) {
      report.differences.push_back(id + ": " + *d);
    }
  }
  for (auto& id : in_replica_ids)
    if (!in_primary.count(id)) report.extra.push_back(id);
  return report;
}

}  // namespace bkp::engine
