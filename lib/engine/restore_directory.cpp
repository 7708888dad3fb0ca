// restore_to_directory: lays a snapshot down under a target directory with
// its metadata. One thread walks the trees; a BlobPrefetcher reads and
// decodes the chunks of the files ahead of it on every core, and a
// FileWritePool writes the files. What
// depends on content not yet written waits in a queue, in walk order: a
// file's data and metadata, a hard link to it, and the metadata of the
// directories above it (applied after their children, so that writing the
// children does not disturb the directory's times, and a read-only
// directory is made read-only only once it is full).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "engine/blob_prefetch.hpp"
#include "engine/file_write_pool.hpp"
#include "engine/recovery_job.hpp"
#include "engine/restore.hpp"
#include "engine/tree_walk.hpp"
#include "sources/files/restore_meta.hpp"
#include "util/fs.hpp"

namespace bkp::engine {

using util::ErrorKind;
using util::fail;
namespace fs = std::filesystem;
using sources::NodeType;

namespace {

// How far the walk may run ahead of the writing: decoded chunks held in
// memory, and queued work (an empty file or a directory holds no bytes).
constexpr std::uint64_t kMaxPrefetchBytes = 64 << 20;
constexpr std::size_t kMaxDeferred = 4096;
// Chunks located per catalog read (files are located in batches: a read
// transaction per file cost SQLite's lock calls each time).
constexpr std::size_t kLocateBatch = 256;

class DirectoryRestorer {
 public:
  DirectoryRestorer(repo::Repository& repo, const RestoreOptions& options,
                    const RestoreProgressFn& progress, RecoveryJob& job, std::uint64_t total)
      : repo_(repo),
        opt_(options),
        progress_(progress),
        job_(job),
        total_(total),
        ownership_(::geteuid() == 0 ? sources::Ownership::restore : sources::Ownership::skip),
        target_dir_(std::make_shared<const WalkedDir>(WalkedDir{options.target, false})) {}

  RestoreReport report;

  util::Result<Descend> enter(const std::string& path, const TreeNode& node) {
    bool selected = opt_.filter.selects(path);
    fs::path dst = destination(path);
    if (node.meta.type == NodeType::dir) {
      if (!selected) {
        if (!opt_.filter.may_contain(path)) return Descend::no;
        // Made only once something below it is restored, so that a filter
        // does not leave a skeleton of empty directories behind.
        pending_.push_back(Pending{dst, node.meta, false});
        if (node.subtree) dirs_.push_back(std::make_shared<const WalkedDir>(WalkedDir{dst, false}));
        return Descend::yes;
      }
      BKP_TRY(make_pending());
      BKP_ASSIGN(bool fresh, make_directory(dst, node.meta));
      if (node.subtree) dirs_.push_back(std::make_shared<const WalkedDir>(WalkedDir{dst, fresh}));
      return Descend::yes;
    }
    if (!selected) return Descend::no;
    BKP_TRY(make_pending());
    // Nothing can be in the way in a directory this restore made.
    if (!parent_dir()->fresh) {
      BKP_ASSIGN(bool proceed, clear_existing(dst, node));
      if (!proceed) return Descend::no;
    }
    if (node.meta.type == NodeType::file) {
      BKP_TRY(queue_file(std::move(dst), node));
      return Descend::no;
    }
    if (node.meta.type == NodeType::symlink) {
      BKP_TRY(sources::create_symlink(dst, node.meta));
    } else if (auto st = sources::create_special(dst, node.meta); !st) {
      if (st.error().kind != ErrorKind::partial) return st.propagate();
      warn(st.error().message);
      return Descend::no;
    }
    ++report.others;
    BKP_TRY(sources::apply_metadata(dst, node.meta, ownership_, report.warnings));
    tick();
    return Descend::no;
  }

  util::Status leave(const std::string& path, const TreeNode& node) {
    fs::path dst = destination(path);
    dirs_.pop_back();  // leave comes only for directories with a subtree
    if (!pending_.empty() && pending_.back().dst == dst) {
      pending_.pop_back();  // not selected: no metadata, made or not
      return {};
    }
    deferred_.push_back(Deferred{Deferred::Kind::directory, std::move(dst), node, {}, {}, {}});
    return drain(Drain::to_bounds);
  }

  enum class Drain { to_bounds, all };
  util::Status drain(Drain how) {
    // The walk is over: what is left is located at once, so that the
    // reads can join it with what was queued before.
    if (how == Drain::all && !unlocated_.empty()) BKP_TRY(locate_queued());
    while (!deferred_.empty()) {
      if (how == Drain::to_bounds && deferred_.size() <= kMaxDeferred &&
          prefetch_.queued_bytes() <= kMaxPrefetchBytes)
        break;
      // A file that runs must have its chunks asked for. Only then: the
      // queue is at its bound in steady state, and locating whenever one
      // entry runs made batches of one file.
      if (!unlocated_.empty() && unlocated_.front() == &deferred_.front()) BKP_TRY(locate_queued());
      Deferred d = std::move(deferred_.front());
      deferred_.pop_front();
      BKP_TRY(run(d));
    }
    if (how == Drain::all) return wait_written();
    return {};
  }

 private:
  // Walks below a root start with the root's path (see RestoreOptions::root).
  fs::path destination(const std::string& path) const {
    return opt_.target / fs::path(path.substr(opt_.root.size())).relative_path();
  }

  // A directory being walked. `fresh`: this restore made it, so nothing
  // was in its way (no lstat per entry).
  struct WalkedDir {
    fs::path dst;
    bool fresh = false;
  };

  struct Deferred {
    enum class Kind { file, hardlink, directory };
    Kind kind;
    fs::path dst;
    TreeNode node;
    fs::path link_to;                      // hardlink: the first name of the file
    std::string damaged_why;               // file: set when its chunks could not be located
    std::shared_ptr<const WalkedDir> dir;  // file: where it goes
  };

  void warn(std::string msg) {
    report.warnings.push_back(std::move(msg));
    report.partial = true;
  }

  void tick() {
    ++items_;
    if (progress_) progress_(RestoreProgress{report.bytes, total_, items_});
    job_.progress(report.bytes, total_);
  }

  // Makes the unselected directories above what is about to be restored.
  util::Status make_pending() {
    for (auto& p : pending_) {
      if (p.made) continue;
      BKP_TRY(make_directory(p.dst, p.meta));
      p.made = true;
    }
    return {};
  }

  // True when this restore made the directory (nothing was there).
  util::Result<bool> make_directory(const fs::path& dst, const sources::Node& meta) {
    if (::mkdir(dst.c_str(), 0700) == 0) return true;
    struct stat st {};
    if (errno != EEXIST || ::lstat(dst.c_str(), &st) != 0)
      return fail(util::errno_error("creating directory", dst, errno));
    if (S_ISDIR(st.st_mode)) return false;
    if (opt_.overwrite == OverwritePolicy::never) {
      return fail(ErrorKind::exists, "'" + dst.string() + "' exists and is not a directory");
    }
    if (::unlink(dst.c_str()) != 0) return fail(util::errno_error("removing", dst, errno));
    BKP_TRY(sources::create_dir(dst, meta));
    return true;
  }

  // Makes room for `node` at `dst` as the overwrite policy says; false means
  // leave what is there.
  util::Result<bool> clear_existing(const fs::path& dst, const TreeNode& node) {
    struct stat st {};
    if (::lstat(dst.c_str(), &st) != 0) return true;
    if (opt_.overwrite == OverwritePolicy::never) {
      ++report.skipped_existing;
      return false;
    }
    if (S_ISDIR(st.st_mode)) {
      // Never delete a directory tree to put a file in its place.
      warn("'" + dst.string() + "' is a directory; not replaced by a " +
           sources::type_name(node.meta.type));
      return false;
    }
    if (opt_.overwrite == OverwritePolicy::if_changed && node.meta.type == NodeType::file &&
        S_ISREG(st.st_mode) && static_cast<std::uint64_t>(st.st_size) == node.meta.size &&
        st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec == node.meta.mtime_ns) {
      ++report.skipped_existing;
      // The file there is taken for this one: its other names link to it.
      if (node.meta.nlink > 1)
        links_.emplace(std::make_pair(node.meta.device, node.meta.inode), dst);
      return false;
    }
    if (::unlink(dst.c_str()) != 0) return fail(util::errno_error("removing", dst, errno));
    return true;
  }

  // Asks the prefetcher for the file's chunks and queues the writing.
  util::Status queue_file(fs::path dst, const TreeNode& node) {
    auto key = std::make_pair(node.meta.device, node.meta.inode);
    if (node.meta.nlink > 1) {
      if (auto it = links_.find(key); it != links_.end()) {
        deferred_.push_back(
            Deferred{Deferred::Kind::hardlink, std::move(dst), {}, it->second, {}, {}});
        return drain(Drain::to_bounds);
      }
      links_.emplace(key, dst);
    }
    deferred_.push_back(Deferred{Deferred::Kind::file, std::move(dst), node, {}, {}, parent_dir()});
    // Deque elements stay put when others are added or taken from the front.
    unlocated_.push_back(&deferred_.back());
    unlocated_chunks_ += node.content.size();
    if (unlocated_chunks_ >= kLocateBatch) BKP_TRY(locate_queued());
    return drain(Drain::to_bounds);
  }

  // Locates the chunks of the files queued since the last call, in one
  // catalog read, and asks the prefetcher for them in queue order.
  util::Status locate_queued() {
    std::vector<repo::BlobId> ids;
    ids.reserve(unlocated_chunks_);
    for (const Deferred* d : unlocated_)
      ids.insert(ids.end(), d->node.content.begin(), d->node.content.end());
    BKP_ASSIGN(auto found, repo_.locate_blobs(ids));
    std::size_t at = 0;
    std::vector<repo::BlobLocation> wanted;
    wanted.reserve(ids.size());
    for (Deferred* d : unlocated_) {
      const std::size_t n = d->node.content.size();
      for (std::size_t i = 0; i < n && d->damaged_why.empty(); ++i) {
        if (!found[at + i])
          d->damaged_why = "blob " + util::to_hex(ids[at + i]) + " is not in the index";
      }
      if (d->damaged_why.empty())
        for (std::size_t i = 0; i < n; ++i) wanted.push_back(*found[at + i]);
      at += n;
    }
    prefetch_.push(wanted);
    unlocated_.clear();
    unlocated_chunks_ = 0;
    return {};
  }

  util::Status run(Deferred& d) {
    switch (d.kind) {
      case Deferred::Kind::directory:
        // Every file in it was begun before this entry runs (walk order).
        dir_metadata_.push_back(
            DirMetadata{writers_.begun(), std::move(d.dst), std::move(d.node.meta)});
        return apply_dir_metadata();
      case Deferred::Kind::hardlink:
        BKP_TRY(wait_written());
        if (damaged_.count(d.link_to)) {
          report.damaged.push_back(d.dst.string() + ": a hard link to the damaged '" +
                                   d.link_to.string() + "'");
          return {};
        }
        ++report.files;
        BKP_TRY(sources::create_hardlink(d.dst, d.link_to));
        tick();
        return {};
      case Deferred::Kind::file:
        return run_file(d);
    }
    return {};
  }

  // A file's chunks go from the prefetcher to the write pool, which writes
  // and renames it into place on one of its threads.
  util::Status run_file(Deferred& d) {
    if (!d.damaged_why.empty()) {
      report.damaged.push_back(d.dst.string() + ": " + d.damaged_why);
      damaged_.insert(d.dst);
      return {};
    }
    std::size_t chunks = d.node.content.size();
    if (d.dir != open_for_) {
      // Files come directory by directory: one open per run of them, and
      // only the pool's unfinished files keep an old one open.
      open_for_ = d.dir;
      open_dir_ = std::make_shared<OpenDir>(
          OpenDir{util::UniqueFd(::open(d.dir->dst.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)),
                  d.dir->dst});
    }
    if (open_dir_->fd)
      writers_.begin(open_dir_, d.node.meta.name, d.node.meta, chunks,
                     d.dir->fresh ? FileWritePool::Placement::direct
                                  : FileWritePool::Placement::via_temporary);
    else  // the pool's own error (by full path) says what is wrong
      writers_.begin(d.dst, d.node.meta, chunks);
    for (std::size_t i = 0; i < chunks; ++i) {
      auto data = prefetch_.next();
      if (data) {
        report.bytes += data->size();
        job_.progress(report.bytes, total_);
        if (progress_) progress_(RestoreProgress{report.bytes, total_, items_});
      }
      writers_.feed(std::move(data));
    }
    BKP_TRY(collect_written());
    return apply_dir_metadata();
  }

  // Applies the metadata of the directories whose files are all written,
  // in walk order (children before parents). Waiting for the whole pool
  // to run dry instead emptied the pipeline once per directory: a tree of
  // small directories kept the cores 20-30% idle.
  util::Status apply_dir_metadata() {
    if (dir_metadata_.empty()) return {};
    const std::uint64_t done = writers_.finished_below();
    while (!dir_metadata_.empty() && dir_metadata_.front().files_begun <= done) {
      DirMetadata& dm = dir_metadata_.front();
      ++report.dirs;
      BKP_TRY(sources::apply_metadata(dm.dst, dm.meta, ownership_, report.warnings));
      dir_metadata_.pop_front();
    }
    return {};
  }

  // Takes in what the write pool finished: counts, damage, warnings, and
  // the first error that must stop the restore.
  util::Status collect_written() {
    for (auto& out : writers_.take_finished()) {
      if (!out.status) return out.status;
      if (!out.damaged_why.empty()) {
        // Damaged data: say so, and go on with the files that are intact.
        report.damaged.push_back(out.dst.string() + ": " + out.damaged_why);
        damaged_.insert(out.dst);
        continue;
      }
      for (auto& w : out.warnings) report.warnings.push_back(std::move(w));
      ++report.files;
      tick();
    }
    return {};
  }

  // Hard links and directory metadata need the files before them in place.
  util::Status wait_written() {
    writers_.wait_idle();
    BKP_TRY(collect_written());
    return apply_dir_metadata();
  }

  repo::Repository& repo_;
  const RestoreOptions& opt_;
  const RestoreProgressFn& progress_;
  RecoveryJob& job_;
  std::uint64_t total_ = 0, items_ = 0;
  sources::Ownership ownership_;
  // The first name each multiply linked file got (or will get, once its
  // queued content is written); its other names link to it.
  std::map<std::pair<std::uint64_t, std::uint64_t>, fs::path> links_;
  std::set<fs::path> damaged_;  // files not restored: links to them are not made
  struct Pending {
    fs::path dst;
    sources::Node meta;
    bool made = false;
  };
  std::vector<Pending> pending_;  // unselected directories being walked, outermost first
  std::shared_ptr<const WalkedDir> target_dir_;         // where the top entries go
  std::vector<std::shared_ptr<const WalkedDir>> dirs_;  // being walked, innermost last
  // Where the entry being entered goes.
  const std::shared_ptr<const WalkedDir>& parent_dir() const {
    return dirs_.empty() ? target_dir_ : dirs_.back();
  }
  // The directory of the last file begun, held open for the next ones.
  std::shared_ptr<const WalkedDir> open_for_;
  std::shared_ptr<const OpenDir> open_dir_;
  std::deque<Deferred> deferred_;
  // Directories whose metadata waits for their files: applied once the
  // pool has finished the files_begun files begun before the directory's
  // entry ran.
  struct DirMetadata {
    std::uint64_t files_begun;
    fs::path dst;
    sources::Node meta;
  };
  std::deque<DirMetadata> dir_metadata_;
  // Files of deferred_ whose chunks are not located yet, oldest first.
  std::vector<Deferred*> unlocated_;
  std::size_t unlocated_chunks_ = 0;
  FileWritePool writers_{FileWritePool::Options{ownership_, opt_.verify}};
  BlobPrefetcher prefetch_{repo_};  // last: its threads stop first
};

}  // namespace

util::Result<RestoreReport> restore_to_directory(repo::Repository& repo, const repo::Snapshot& snap,
                                                 const RestoreOptions& options,
                                                 const RestoreProgressFn& progress) {
  if (options.target.empty()) return fail(ErrorKind::usage, "no --target directory");
  std::optional<RecoveryJob> own;
  if (!options.job) {
    own.emplace(repo.catalog(), snap.id, options.target.string());
    BKP_TRY(own->start());
  }
  RecoveryJob& job = options.job ? *options.job : *own;
  std::uint64_t total = snap.stats.value("total_bytes", std::uint64_t{0});
  DirectoryRestorer restorer(repo, options, progress, job, total);
  job.step("restore", "snapshot " + snap.id + " to " + options.target.string());
  util::Status outcome = util::make_dirs(options.target, 0700);
  repo::BlobId start = snap.tree;
  if (outcome && !options.root.empty()) {
    auto node = find_node(repo, snap.tree, options.root);
    if (!node)
      outcome = node.propagate();
    else if (!node->subtree)
      outcome = fail(ErrorKind::usage, "'" + options.root + "' is not a directory of the snapshot");
    else
      start = *node->subtree;
  }
  if (outcome) {
    outcome = walk_tree(
        repo, start,
        TreeVisitor{[&](const std::string& p, const TreeNode& n) { return restorer.enter(p, n); },
                    [&](const std::string& p, const TreeNode& n) { return restorer.leave(p, n); }},
        options.root);
  }
  if (outcome) outcome = restorer.drain(DirectoryRestorer::Drain::all);
  if (auto& damaged = restorer.report.damaged; outcome && !damaged.empty()) {
    std::string msg = std::to_string(damaged.size()) +
                      " file(s) not restored because their stored data is damaged or missing:";
    for (auto& d : damaged) msg += "\n  " + d;
    outcome = util::fail(ErrorKind::verification, msg);
  }
  if (own) {
    job.step(outcome ? "done" : "failed", outcome ? "" : outcome.error().message);
    BKP_TRY(job.finish(outcome));
  }
  if (!outcome) return outcome.propagate();
  restorer.report.job_id = job.id();
  return std::move(restorer.report);
}

}  // namespace bkp::engine
