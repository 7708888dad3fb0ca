#include "engine/snapshots.hpp"

#include <algorithm>

#include "engine/tree_walk.hpp"

namespace bkp::engine {

using util::ErrorKind;
using util::fail;

namespace {

bool has_tags(const repo::Snapshot& s, const std::vector<std::string>& tags) {
  return std::all_of(tags.begin(), tags.end(), [&](const std::string& t) {
    return std::find(s.tags.begin(), s.tags.end(), t) != s.tags.end();
  });
}

}  // namespace

util::Result<std::vector<repo::Snapshot>> list_snapshots(repo::Repository& repo,
                                                         const SnapshotFilter& filter) {
  catalog::BackupFilter f;
  f.source = filter.source;
  BKP_ASSIGN(auto rows, repo.catalog().list_backups(f));
  std::vector<repo::Snapshot> out;
  for (auto& row : rows) {
    if (row.status != "completed" && row.status != "partial") continue;
    BKP_ASSIGN(auto snap, repo.load_snapshot(row.id));
    if (has_tags(snap, filter.tags)) out.push_back(std::move(snap));
  }
  return out;
}

util::Result<repo::Snapshot> resolve_snapshot(repo::Repository& repo, const std::string& spec,
                                              const SnapshotFilter& filter) {
  if (spec == "latest") {
    BKP_ASSIGN(auto all, list_snapshots(repo, filter));
    if (all.empty()) return fail(ErrorKind::not_found, "no snapshot matches 'latest'");
    return std::move(all.front());
  }
  if (spec.size() < 4 || spec.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return fail(ErrorKind::usage,
                "'" + spec + "' is not a snapshot id (use 4 or more hex digits, or 'latest')");
  }
  catalog::BackupFilter f;
  f.id_prefix = spec;
  BKP_ASSIGN(auto rows, repo.catalog().list_backups(f));
  // A whole id the catalog lacks (its manifest would not open when the
  // catalog was synced): read it from storage, to say why it cannot be read.
  if (rows.empty() && spec.size() == 64) return repo.load_snapshot(spec);
  if (rows.empty()) return fail(ErrorKind::not_found, "no snapshot '" + spec + "'");
  if (rows.size() > 1) return fail(ErrorKind::usage, "snapshot id '" + spec + "' is ambiguous");
  return repo.load_snapshot(rows.front().id);
}

char change_symbol(Change c) {
  switch (c) {
    case Change::added:
      return '+';
    case Change::removed:
      return '-';
    case Change::modified:
      return 'M';
    case Change::metadata:
      return 'U';
  }
  return '?';
}

namespace {

bool same_metadata(const sources::Node& a, const sources::Node& b) {
  return a.type == b.type && a.mode == b.mode && a.uid == b.uid && a.gid == b.gid &&
         a.mtime_ns == b.mtime_ns && a.link_target == b.link_target && a.rdev == b.rdev &&
         a.xattrs.size() == b.xattrs.size() &&
         std::equal(a.xattrs.begin(), a.xattrs.end(), b.xattrs.begin(),
                    [](const sources::Xattr& x, const sources::Xattr& y) {
                      return x.name == y.name && x.value == y.value;
                    });
}

using Out = std::function<void(const DiffEntry&)>;

void report_all(repo::Repository& repo, const TreeNode& n, const std::string& path, Change c,
                const Out& out, util::Status& status) {
  out({c, path});
  if (!n.subtree || !status) return;
  status =
      walk_tree(repo, *n.subtree,
                TreeVisitor{[&](const std::string& p, const TreeNode&) -> util::Result<Descend> {
                              out({c, p});
                              return Descend::yes;
                            },
                            {}},
                path);
}

util::Status compare(repo::Repository& repo, const Tree& a, const Tree& b,
                     const std::string& prefix, const Out& out) {
  util::Status status;
  auto ia = a.nodes.begin(), ib = b.nodes.begin();
  while (status && (ia != a.nodes.end() || ib != b.nodes.end())) {
    if (ib == b.nodes.end() || (ia != a.nodes.end() && ia->meta.name < ib->meta.name)) {
      report_all(repo, *ia, prefix + "/" + ia->meta.name, Change::removed, out, status);
      ++ia;
      continue;
    }
    if (ia == a.nodes.end() || ib->meta.name < ia->meta.name) {
      report_all(repo, *ib, prefix + "/" + ib->meta.name, Change::added, out, status);
      ++ib;
      continue;
    }
    std::string path = prefix + "/" + ia->meta.name;
    if (ia->meta.type != ib->meta.type) {
      report_all(repo, *ia, path, Change::removed, out, status);
      report_all(repo, *ib, path, Change::added, out, status);
    } else if (ia->meta.type == sources::NodeType::file) {
      if (ia->content != ib->content || ia->meta.size != ib->meta.size) {
        out({Change::modified, path});
      } else if (!same_metadata(ia->meta, ib->meta)) {
        out({Change::metadata, path});
      }
    } else if (ia->meta.type == sources::NodeType::dir) {
      if (!same_metadata(ia->meta, ib->meta)) out({Change::metadata, path});
      if (ia->subtree != ib->subtree && ia->subtree && ib->subtree) {
        BKP_ASSIGN(auto ta, load_tree(repo, *ia->subtree));
        BKP_ASSIGN(auto tb, load_tree(repo, *ib->subtree));
        status = compare(repo, ta, tb, path, out);
      }
    } else if (!same_metadata(ia->meta, ib->meta)) {
      out({Change::modified, path});
    }
    ++ia;
    ++ib;
  }
  return status;
}

}  // namespace

util::Status diff_snapshots(repo::Repository& repo, const repo::Snapshot& a,
                            const repo::Snapshot& b,
                            const std::function<void(const DiffEntry&)>& out) {
  if (a.tree == b.tree) return {};
  BKP_ASSIGN(auto ta, load_tree(repo, a.tree));
  BKP_ASSIGN(auto tb, load_tree(repo, b.tree));
  return compare(repo, ta, tb, "", out);
}

}  // namespace bkp::engine
