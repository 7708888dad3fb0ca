// backup_files: walks the roots and builds one tree blob per directory,
// bottom-up, reusing the content of files that did not change since the
// parent snapshot (incremental and differential).
#include <algorithm>
#include <map>
#include <unordered_set>

#include "engine/backup.hpp"
#include "engine/content.hpp"
#include "engine/tree.hpp"
#include "engine/tree_walk.hpp"
#include "sources/files/reader.hpp"
#include "sources/files/walk_ahead.hpp"
#include "util/interrupt.hpp"
#include "util/time.hpp"

#include "bkp_build_config.hpp"
#include "util/host.hpp"

namespace bkp::engine {

using util::ErrorKind;
using util::fail;
namespace fs = std::filesystem;

namespace {

struct Frame {
  sources::Node meta;
  Tree tree;
  std::optional<Tree> previous;  // the same directory in the parent snapshot
  // Chunks of `previous`'s files that the repository no longer has (lost,
  // or removed since): a file using one is read again. Usually empty.
  std::unordered_set<repo::BlobId, repo::IdHash> missing;
};

// The chunks of `tree`'s files that `repo` lacks, asked in one batch.
std::unordered_set<repo::BlobId, repo::IdHash> missing_chunks(repo::Repository& repo,
                                                              const Tree& tree) {
  std::vector<repo::BlobId> ids;
  for (auto& n : tree.nodes) ids.insert(ids.end(), n.content.begin(), n.content.end());
  auto present = repo.has_blobs(ids);
  std::unordered_set<repo::BlobId, repo::IdHash> missing;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (!present[i]) missing.insert(ids[i]);
  }
  return missing;
}

bool unchanged(const sources::Node& a, const sources::Node& b) {
  return a.type == sources::NodeType::file && b.type == a.type && a.size == b.size &&
         a.mtime_ns == b.mtime_ns && a.ctime_ns == b.ctime_ns && a.inode == b.inode;
}

std::vector<std::string> components(const fs::path& p) {
  std::vector<std::string> out;
  for (auto& c : p.relative_path()) {
    if (!c.empty()) out.push_back(c.string());
  }
  return out;
}

// The parent snapshot only saves reading unchanged files: a tree of it that
// is missing or damaged means reading the files below it again, with a
// warning, not failing every incremental backup until someone runs a full.
// Errors of the storage itself (unreachable, no permission) still fail.
util::Result<std::optional<Tree>> load_parent_tree(repo::Repository& repo, const repo::BlobId& id,
                                                   const std::string& path,
                                                   std::vector<std::string>& warnings) {
  auto tree = load_tree(repo, id);
  if (tree) return std::optional<Tree>(std::move(*tree));
  auto kind = tree.error().kind;
  if (kind != ErrorKind::verification && kind != ErrorKind::corrupt) return tree.propagate();
  warnings.push_back("the parent snapshot's tree of '" + path + "' cannot be read (" +
                     tree.error().message + "); reading its files again");
  return std::optional<Tree>();
}

class Archiver final : public sources::WalkVisitor {
 public:
  Archiver(repo::Repository& repo, const ProgressFn& progress) : repo_(repo), progress_(progress) {}

  std::map<std::string, std::uint64_t> counts;
  std::uint64_t total_bytes = 0;
  std::int64_t reuse_before_ns = 0;  // 0: no limit
  bool vanished_expected = false;
  util::RateLimiter* read_limit = nullptr;
  EntrySource* source = nullptr;  // null: the local file system
  std::vector<std::string> warnings;
  bool partial = false;

  util::Status start(std::optional<Tree> previous_root) {
    BKP_ASSIGN(auto root, stat_dir("/"));
    root.name.clear();
    auto missing = previous_root ? missing_chunks(repo_, *previous_root)
                                 : std::unordered_set<repo::BlobId, repo::IdHash>{};
    stack_.push_back(Frame{root, {}, std::move(previous_root), std::move(missing)});
    return {};
  }

  // Closes and opens frames so that the top frame is `dir` (absolute).
  util::Status navigate_to(const fs::path& dir) {
    auto want = components(dir);
    std::size_t common = 0;
    while (common + 1 < stack_.size() && common < want.size() &&
           stack_[common + 1].meta.name == want[common]) {
      ++common;
    }
    while (stack_.size() > common + 1) BKP_TRY(close_dir());
    fs::path at = "/";
    for (std::size_t i = 0; i < common; ++i) at /= want[i];
    for (std::size_t i = common; i < want.size(); ++i) {
      at /= want[i];
      BKP_ASSIGN(auto meta, stat_dir(at));
      BKP_TRY(open_dir(at, meta));
    }
    return {};
  }

  util::Result<repo::BlobId> finish() {
    while (stack_.size() > 1) BKP_TRY(close_dir());
    return save_tree(stack_.back().tree);
  }

  util::Status enter_dir(const fs::path& path, const sources::Node& node) override {
    return open_dir(path, node);
  }

  util::Status leave_dir(const fs::path&, const sources::Node&) override { return close_dir(); }

  util::Status entry(const fs::path& path, const sources::Node& node) override {
    BKP_TRY(util::check_interrupted());  // unchanged files store nothing
    TreeNode out{node, {}, {}};
    if (node.type == sources::NodeType::file) {
      BKP_ASSIGN(bool stored, file_content(path, out));
      // A file that could not be read is left out, as the walker leaves out
      // what it cannot lstat: restoring it empty with its old metadata
      // would look like a good copy.
      if (!stored) return {};
    } else {
      ++counts["other"];
    }
    stack_.back().tree.nodes.push_back(std::move(out));
    ++items_;
    report(path);
    return {};
  }

  void skipped(const fs::path& path, const util::Error& error) override {
    if (vanished_expected && error.kind == ErrorKind::not_found) {
      ++counts["vanished"];
      return;
    }
    warnings.push_back("skipped '" + path.string() + "': " + error.message);
    partial = true;
  }

 private:
  util::Result<sources::Node> stat_dir(const fs::path& dir) {
    return source ? source->parent_dir(dir) : sources::stat_path(dir);
  }

  util::Status open_dir(const fs::path& path, const sources::Node& meta) {
    std::optional<Tree> previous;
    if (auto& parent = stack_.back().previous) {
      const TreeNode* old = parent->find(meta.name);
      if (old && old->subtree) {
        BKP_ASSIGN(previous, load_parent_tree(repo_, *old->subtree, path.string(), warnings));
      }
    }
    auto missing = previous ? missing_chunks(repo_, *previous)
                            : std::unordered_set<repo::BlobId, repo::IdHash>{};
    stack_.push_back(Frame{meta, {}, std::move(previous), std::move(missing)});
    ++counts["dirs"];
    return {};
  }

  util::Status close_dir() {
    Frame frame = std::move(stack_.back());
    stack_.pop_back();
    BKP_ASSIGN(auto id, save_tree(frame.tree));
    stack_.back().tree.nodes.push_back(TreeNode{frame.meta, {}, id});
    return {};
  }

  util::Result<repo::BlobId> save_tree(Tree& tree) {
    std::sort(tree.nodes.begin(), tree.nodes.end(),
              [](const TreeNode& a, const TreeNode& b) { return a.meta.name < b.meta.name; });
    auto bytes = encode_tree(tree);
    auto id = repo_.blob_id(bytes);
    BKP_TRY(repo_.save_blob(repo::BlobType::tree, bytes, id));
    return id;
  }

  // A file the source stored already: counted against the parent by its
  // chunks, since the content was read anyway.
  util::Status stored_content(const fs::path& path, TreeNode& out) {
    BKP_ASSIGN(auto stored, source->content(path));
    const char* kind = "files_new";
    if (auto& prev = stack_.back().previous) {
      const TreeNode* old = prev->find(out.meta.name);
      if (old) kind = old->content == stored.chunks ? "files_unmodified" : "files_changed";
    }
    ++counts[kind];
    out.content = std::move(stored.chunks);
    total_bytes += stored.size;
    return {};
  }

  // Fills out.content; false when the file could not be read (skipped).
  util::Result<bool> file_content(const fs::path& path, TreeNode& out) {
    if (source) {
      BKP_TRY(stored_content(path, out));
      return true;
    }
    const auto& node = out.meta;
    const char* kind = "files_new";
    if (auto& prev = stack_.back().previous) {
      const auto& missing = stack_.back().missing;
      const TreeNode* old = prev->find(node.name);
      if (old && unchanged(node, old->meta) &&
          (reuse_before_ns == 0 ||
           (old->meta.mtime_ns < reuse_before_ns && old->meta.ctime_ns < reuse_before_ns)) &&
          std::none_of(old->content.begin(), old->content.end(),
                       [&](const repo::BlobId& id) { return missing.count(id) > 0; })) {
        out.content = old->content;
        ++counts["files_unmodified"];
        total_bytes += node.size;
        return true;
      }
      if (old) kind = "files_changed";
    }
    auto key = std::make_pair(node.device, node.inode);
    if (node.nlink > 1) {
      if (auto it = hardlinks_.find(key); it != hardlinks_.end()) {
        out.content = it->second;
        ++counts[kind];
        total_bytes += node.size;
        return true;
      }
    }
    auto reader = sources::open_for_backup(path, node);
    if (!reader) {
      skipped(path, reader.error());
      return false;
    }
    // Only an error of the source skips the file; one of the repository
    // (storage, catalog) stops the backup, even when it is an I/O error.
    bool read_failed = false;
    auto stored = store_stream(
        repo_,
        [&](std::uint8_t* buf, std::size_t cap) {
          auto n = reader->read(buf, cap);
          if (!n)
            read_failed = true;
          else if (read_limit && *n > 0)
            read_limit->consume(*n);
          return n;
        },
        Checksum::no,
        [&](std::size_t n) {
          bytes_read_ += n;
          report(path);
        });
    if (!stored) {
      if (!read_failed) return stored.propagate();
      skipped(path, stored.error());
      return false;
    }
    ++counts[kind];
    out.content = std::move(stored->chunks);
    if (stored->size != node.size || reader->changed_while_reading()) {
      warnings.push_back("file '" + path.string() + "' changed while being read");
      out.meta.size = stored->size;
    }
    if (node.nlink > 1) hardlinks_[key] = out.content;
    total_bytes += out.meta.size;  // what the snapshot holds, skipped files not
    return true;
  }

  void report(const fs::path& path) {
    if (progress_) progress_(BackupProgress{bytes_read_, items_, path.string()});
  }

  repo::Repository& repo_;
  const ProgressFn& progress_;
  std::vector<Frame> stack_;
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::vector<repo::BlobId>> hardlinks_;
  std::uint64_t bytes_read_ = 0, items_ = 0;
};

// Sorted by component, with roots inside other roots dropped (walked with them).
std::vector<fs::path> outermost(std::vector<fs::path> roots) {
  std::sort(roots.begin(), roots.end(),
            [](const fs::path& a, const fs::path& b) { return components(a) < components(b); });
  std::vector<fs::path> out;
  for (auto& r : roots) {
    if (!out.empty()) {
      auto outer = components(out.back()), inner = components(r);
      if (inner.size() >= outer.size() && std::equal(outer.begin(), outer.end(), inner.begin()))
        continue;
    }
    out.push_back(r);
  }
  return out;
}

// Absolute, normalised, sorted by component, with roots inside other roots dropped.
util::Result<std::vector<fs::path>> normalise_roots(const std::vector<fs::path>& paths) {
  std::vector<fs::path> roots;
  for (auto& p : paths) {
    std::error_code ec;
    auto abs = fs::absolute(p, ec).lexically_normal();
    if (ec) return fail(ErrorKind::usage, "bad path '" + p.string() + "'");
    if (abs.has_filename() == false && abs != abs.root_path()) abs = abs.parent_path();
    // The parents of a root are recorded as directories, so a symlink among
    // them is resolved ("/var/run/x", /var/run -> /run, is stored as
    // "/run/x"); the root itself is taken as it is.
    if (abs != abs.root_path()) {
      auto parent = fs::canonical(abs.parent_path(), ec);
      if (ec) return fail(ErrorKind::not_found, "'" + p.string() + "' does not exist");
      abs = parent / abs.filename();
    }
    if (!fs::exists(fs::symlink_status(abs, ec))) {
      return fail(ErrorKind::not_found, "'" + p.string() + "' does not exist");
    }
    roots.push_back(abs);
  }
  return outermost(std::move(roots));
}

}  // namespace

util::Result<BackupReport> backup_files(repo::Repository& repo, const FileBackupOptions& options,
                                        const ProgressFn& progress) {
  if (options.paths.empty()) return fail(ErrorKind::usage, "no paths to back up");
  std::vector<fs::path> roots;
  if (options.entries) {
    // Paths of another host: nothing to look up here.
    for (auto& p : options.paths) {
      auto n = p.lexically_normal();
      if (!n.has_filename() && n != n.root_path()) n = n.parent_path();
      if (!n.is_absolute()) return fail(ErrorKind::usage, "'" + p.string() + "' is not absolute");
      roots.push_back(n);
    }
    roots = outermost(std::move(roots));
  } else {
    BKP_ASSIGN(roots, normalise_roots(options.paths));
    BKP_TRY(repo.sync_catalog());
  }

  repo::Snapshot snap;
  snap.id = repo::new_snapshot_id();
  snap.time = util::now_rfc3339();
  snap.hostname = util::host_name();
  snap.username = util::user_name();
  snap.source_kind = options.source_kind;
  snap.extra = options.extra;
  for (auto& r : roots) snap.paths.push_back(r.string());
  snap.source_name = options.source_name;
  if (snap.source_name.empty()) {
    snap.source_name = snap.hostname + ":";
    for (std::size_t i = 0; i < roots.size(); ++i) {
      snap.source_name += (i ? "," : "") + roots[i].string();
    }
  }
  snap.tags = options.tags;
  snap.program_version = BKP_VERSION;

  const repo::WriteStats before = options.written_before.value_or(repo.write_stats());
  Archiver archiver(repo, progress);
  archiver.vanished_expected = options.vanished == FileBackupOptions::Vanished::expected;
  archiver.read_limit = options.read_limit.get();
  archiver.source = options.entries.get();
  BKP_ASSIGN(auto parent, find_parent(repo, snap.source_name, options.type));
  std::optional<Tree> previous_root;
  if (parent) {
    BKP_ASSIGN(previous_root, load_parent_tree(repo, parent->tree, "/", archiver.warnings));
  }
  if (previous_root) snap.parent = parent->id;
  if (previous_root && options.reuse_before)
    archiver.reuse_before_ns = options.reuse_before(*parent);
  snap.backup_type = std::string(backup_type_name(previous_root ? options.type : BackupType::full));
  BKP_TRY(archiver.start(std::move(previous_root)));
  for (auto& root : roots) {
    BKP_TRY(archiver.navigate_to(root.parent_path()));
    if (root == root.root_path()) {
      return fail(ErrorKind::usage,
                  "backing up '/' as a whole is not supported yet; name its directories");
    }
    if (options.entries)
      BKP_TRY(options.entries->walk(root, archiver));
    else
      BKP_TRY(sources::walk_ahead({root}, options.walk, archiver));
  }
  BKP_ASSIGN(snap.tree, archiver.finish());
  BKP_TRY(repo.flush());

  // The repository counts over its lifetime; this backup wrote the difference.
  const auto w = written_since(before, repo.write_stats());
  snap.stats = {{"files_new", archiver.counts["files_new"]},
                {"files_changed", archiver.counts["files_changed"]},
                {"files_unmodified", archiver.counts["files_unmodified"]},
                {"dirs", archiver.counts["dirs"]},
                {"other", archiver.counts["other"]},
                {"vanished", archiver.counts["vanished"]},
                {"total_bytes", archiver.total_bytes},
                {"raw_bytes_new", w.raw_bytes_new},
                {"stored_bytes_new", w.stored_bytes_new},
                {"blobs_new", w.blobs_new},
                {"packs_written", w.packs_written},
                {"warnings", archiver.warnings.size()},
                {"partial", archiver.partial}};
  if (options.before_save) BKP_TRY(options.before_save(snap));
  snap.completed = util::now_rfc3339();
  BKP_TRY(repo.save_snapshot(snap));
  return BackupReport{std::move(snap), std::move(archiver.warnings), archiver.partial};
}

}  // namespace bkp::engine
