// backup_stream (stdin or a command's output) and what every backup shares:
// parent selection, host and user names.
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "bkp_build_config.hpp"
#include "engine/backup.hpp"
#include "engine/content.hpp"
#include "engine/tree.hpp"
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

std::string hostname() {
  char buf[256] = {};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

std::string username() {
  if (auto* pw = ::getpwuid(::geteuid())) return pw->pw_name;
  return std::to_string(::geteuid());
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
    ssize_t n = ::read(fd, buf, cap);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno != EINTR)
      return fail(ErrorKind::io, std::string("reading the stream: ") + std::strerror(errno));
  }
}

}  // namespace

util::Result<BackupReport> backup_stream(repo::Repository& repo, const StreamBackupOptions& options,
                                         const ProgressFn& progress) {
  if (options.name.empty() || options.name.find('/') != std::string::npos) {
    return fail(ErrorKind::usage, "a stream needs a --name without '/'");
  }
  BKP_TRY(repo.sync_catalog());
  repo::Snapshot snap;
  snap.id = repo::new_snapshot_id();
  snap.time = util::now_rfc3339();
  snap.hostname = hostname();
  snap.username = username();
  snap.source_kind = "stdin";
  snap.source_name = options.name;
  snap.tags = options.tags;
  snap.program_version = BKP_VERSION;
  snap.backup_type = "full";

  std::optional<util::Child> child;
  int fd = options.input_fd;
  if (!options.command.empty()) {
    util::SpawnOptions spawn;
    spawn.stdin_mode = util::SpawnOptions::Stdin::null;
    spawn.stdout_mode = util::SpawnOptions::Stdout::pipe;
    spawn.stderr_mode = util::SpawnOptions::Stderr::inherit;
    BKP_ASSIGN(auto c, util::Child::spawn(options.command, spawn));
    child.emplace(std::move(c));
    fd = child->stdout_fd();
    snap.extra["command"] = options.command;
  }

  const repo::WriteStats before = repo.write_stats();
  std::uint64_t done = 0;
  auto stored = store_stream(
      repo, [&](std::uint8_t* buf, std::size_t cap) { return read_fd(fd, buf, cap); },
      Checksum::sha256,
      [&](std::size_t n) {
        done += n;
        if (progress) progress(BackupProgress{done, 1, options.name});
      });
  if (child) {
    // On a storage error the command may still be writing: stop it.
    if (!stored) ::kill(child->pid(), SIGTERM);
    BKP_ASSIGN(int status, child->wait());
    if (!stored) return stored.propagate();
    if (status != 0) {
      // The chunks already stored stay unreferenced; prune collects them.
      return fail(ErrorKind::generic, "command '" + options.command[0] + "' " +
                                          util::describe_status(status) + "; no snapshot written");
    }
  }
  if (!stored) return stored.propagate();

  sources::Node node;
  node.name = options.name;
  node.type = sources::NodeType::file;
  node.mode = 0600;
  node.uid = ::geteuid();
  node.gid = ::getegid();
  node.mtime_ns = node.atime_ns = node.ctime_ns = util::now_ns();
  node.size = stored->size;
  Tree tree;
  tree.nodes.push_back(TreeNode{node, stored->chunks, std::nullopt});
  auto bytes = encode_tree(tree);
  snap.tree = repo.blob_id(bytes);
  BKP_TRY(repo.save_blob(repo::BlobType::tree, bytes, snap.tree));
  BKP_TRY(repo.flush());

  const auto w = written_since(before, repo.write_stats());
  snap.stats = {{"total_bytes", stored->size},
                {"raw_bytes_new", w.raw_bytes_new},
                {"stored_bytes_new", w.stored_bytes_new},
                {"blobs_new", w.blobs_new},
                {"packs_written", w.packs_written},
                {"sha256", util::to_hex(*stored->sha256)}};
  snap.completed = util::now_rfc3339();
  BKP_TRY(repo.save_snapshot(snap));
  return BackupReport{std::move(snap), {}, false};
}

}  // namespace bkp::engine
