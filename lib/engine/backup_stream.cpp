// backup_stream (stdin or a command's output) and what every backup shares:
// parent selection, host and user names.
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "bkp_build_config.hpp"
#include "engine/backup.hpp"
#include "engine/content.hpp"
#include "engine/tree.hpp"
#include "util/host.hpp"
#include "util/interrupt.hpp"
#include "util/subprocess.hpp"
#include "util/time.hpp"

namespace bkp::engine {

using util::ErrorKind;
using util::fail;

std::string_view backup_type_name(BackupType t) {
  switch (t) {
    case BackupType::full:
      return "full";
    case BackupType::incremental:
      return "incremental";
    case BackupType::differential:
      return "differential";
  }
  return "full";
}

std::optional<BackupType> parse_backup_type(std::string_view s) {
  if (s == "full") return BackupType::full;
  if (s == "incremental") return BackupType::incremental;
  if (s == "differential") return BackupType::differential;
  return std::nullopt;
}

repo::WriteStats written_since(const repo::WriteStats& before, const repo::WriteStats& now) {
  repo::WriteStats d;
  d.blobs_new = now.blobs_new - before.blobs_new;
  d.blobs_known = now.blobs_known - before.blobs_known;
  d.raw_bytes_new = now.raw_bytes_new - before.raw_bytes_new;
  d.stored_bytes_new = now.stored_bytes_new - before.stored_bytes_new;
  d.packs_written = now.packs_written - before.packs_written;
  return d;
}

util::Result<std::optional<repo::Snapshot>> find_parent(repo::Repository& repo,
                                                        const std::string& source,
                                                        BackupType type) {
  // A backup slot cannot read any snapshot, its own included: every backup
  // it makes reads all files again (deduplication still applies, by id).
  if (type == BackupType::full || repo.is_writer()) return std::optional<repo::Snapshot>{};
  catalog::BackupFilter filter;
  filter.source = source;
  BKP_ASSIGN(auto rows, repo.catalog().list_backups(filter));
  for (auto& row : rows) {  // newest first
    if (row.status != "completed" && row.status != "partial") continue;
    if (type == BackupType::differential && row.backup_type != "full") continue;
    // Blobs are never shared across key domains (doc/key-domains.md).
    auto same = repo.in_current_domain(row.id);
    if (same && !*same) continue;
    auto snap = repo.load_snapshot(row.id);
    if (snap) return std::optional<repo::Snapshot>(std::move(*snap));
    // A damaged manifest must not stop every later backup: compare with an
    // older snapshot instead (verify reports the damage).
    auto kind = snap.error().kind;
    if (kind != ErrorKind::verification && kind != ErrorKind::corrupt) return snap.propagate();
  }
  return std::optional<repo::Snapshot>{};
}

namespace {

util::Result<std::size_t> read_fd(int fd, std::uint8_t* buf, std::size_t cap) {
  for (;;) {
    // A quiet pipe would hold a plain read() for ever (signals restart it):
    // wait in slices so Ctrl-C is noticed while nothing arrives.
    BKP_TRY(util::check_interrupted());
    pollfd p{fd, POLLIN, 0};
    // poll() is never restarted: the signal itself ends it with EINTR.
    if (int ready = ::poll(&p, 1, 250); ready == 0 || (ready < 0 && errno == EINTR)) continue;
    ssize_t n = ::read(fd, buf, cap);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno != EINTR)
      return fail(ErrorKind::io, std::string("reading the stream: ") + std::strerror(errno));
  }
}

}  // namespace

namespace {

repo::Snapshot new_snapshot(const std::string& kind, const std::string& name,
                            const std::vector<std::string>& tags) {
  repo::Snapshot snap;
  snap.id = repo::new_snapshot_id();
  snap.time = util::now_rfc3339();
  snap.hostname = util::host_name();
  snap.username = util::user_name();
  snap.source_kind = kind;
  snap.source_name = name;
  snap.tags = tags;
  snap.program_version = BKP_VERSION;
  snap.backup_type = "full";
  return snap;
}

// Stores what `fd` (or the command, when given) produces as one file node.
util::Result<TreeNode> store_one(repo::Repository& repo, const std::string& name, int fd,
                                 const std::vector<std::string>& command, util::SpawnOptions spawn,
                                 const ProgressFn& progress, std::uint64_t& done,
                                 std::uint64_t items, crypto::Digest& sha256) {
  std::optional<util::Child> child;
  if (!command.empty()) {
    spawn.stdout_mode = util::SpawnOptions::Stdout::pipe;
    spawn.stderr_mode = util::SpawnOptions::Stderr::inherit;
    BKP_ASSIGN(auto c, util::Child::spawn(command, spawn));
    child.emplace(std::move(c));
    fd = child->stdout_fd();
  }
  auto stored = store_stream(
      repo, [&](std::uint8_t* buf, std::size_t cap) { return read_fd(fd, buf, cap); },
      Checksum::sha256,
      [&](std::size_t n) {
        done += n;
        if (progress) progress(BackupProgress{done, items, name});
      });
  if (child) {
    // On a storage error the command may still be writing: stop it.
    if (!stored) ::kill(child->pid(), SIGTERM);
    BKP_ASSIGN(int status, child->wait());
    if (!stored) return stored.propagate();
    if (status != 0) {
      // The chunks already stored stay unreferenced; prune collects them.
      return fail(ErrorKind::generic, "command '" + command[0] + "' " +
                                          util::describe_status(status) + "; no snapshot written");
    }
  }
  if (!stored) return stored.propagate();
  sha256 = *stored->sha256;

  sources::Node node;
  node.name = name;
  node.type = sources::NodeType::file;
  node.mode = 0600;
  node.uid = ::geteuid();
  node.gid = ::getegid();
  node.mtime_ns = node.atime_ns = node.ctime_ns = util::now_ns();
  node.size = stored->size;
  return TreeNode{node, stored->chunks, std::nullopt};
}

// Writes the tree and then the manifest: the snapshot exists only once all
// its streams are durable.
util::Result<BackupReport> finish(repo::Repository& repo, repo::Snapshot snap, Tree tree,
                                  const repo::WriteStats& before, std::uint64_t total) {
  auto bytes = encode_tree(tree);
  snap.tree = repo.blob_id(bytes);
  BKP_TRY(repo.save_blob(repo::BlobType::tree, bytes, snap.tree));
  BKP_TRY(repo.flush());
  const auto w = written_since(before, repo.write_stats());
  snap.stats["total_bytes"] = total;
  snap.stats["raw_bytes_new"] = w.raw_bytes_new;
  snap.stats["stored_bytes_new"] = w.stored_bytes_new;
  snap.stats["blobs_new"] = w.blobs_new;
  snap.stats["packs_written"] = w.packs_written;
  snap.completed = util::now_rfc3339();
  BKP_TRY(repo.save_snapshot(snap));
  return BackupReport{std::move(snap), {}, false};
}

}  // namespace

util::Result<BackupReport> backup_stream(repo::Repository& repo, const StreamBackupOptions& options,
                                         const ProgressFn& progress) {
  if (options.name.empty() || options.name.find('/') != std::string::npos) {
    return fail(ErrorKind::usage, "a stream needs a --name without '/'");
  }
  BKP_TRY(repo.sync_catalog());
  auto snap = new_snapshot("stdin", options.name, options.tags);
  if (!options.command.empty()) snap.extra["command"] = options.command;
  const repo::WriteStats before = repo.write_stats();
  std::uint64_t done = 0;
  crypto::Digest sha{};
  BKP_ASSIGN(auto node, store_one(repo, options.name, options.input_fd, options.command, {},
                                  progress, done, 1, sha));
  snap.stats["sha256"] = util::to_hex(sha);
  Tree tree;
  tree.nodes.push_back(std::move(node));
  return finish(repo, std::move(snap), std::move(tree), before, done);
}

util::Result<BackupReport> backup_commands(repo::Repository& repo,
                                           const CommandBackupOptions& options,
                                           const ProgressFn& progress) {
  if (options.streams.empty()) return fail(ErrorKind::usage, "nothing to back up");
  BKP_TRY(repo.sync_catalog());
  auto snap = new_snapshot(options.source_kind, options.source_name, options.tags);
  snap.extra = options.extra;
  const repo::WriteStats before = repo.write_stats();
  std::uint64_t done = 0, items = 0;
  Tree tree;
  nlohmann::json sums = nlohmann::json::object();
  for (auto& s : options.streams) {
    if (s.name.empty() || s.name.find('/') != std::string::npos || s.command.empty())
      return fail(ErrorKind::usage,
                  "stream '" + s.name + "': needs a name without '/' and a command");
    crypto::Digest sha{};
    BKP_ASSIGN(auto node,
               store_one(repo, s.name, -1, s.command, s.spawn, progress, done, ++items, sha));
    sums[s.name] = util::to_hex(sha);
    tree.nodes.push_back(std::move(node));
  }
  // A tree's nodes are sorted by name, like a directory's.
  std::sort(tree.nodes.begin(), tree.nodes.end(),
            [](const TreeNode& a, const TreeNode& b) { return a.meta.name < b.meta.name; });
  if (options.streams.size() == 1) snap.stats["sha256"] = sums.begin().value();
  snap.extra["sha256"] = sums;
  return finish(repo, std::move(snap), std::move(tree), before, done);
}

}  // namespace bkp::engine
