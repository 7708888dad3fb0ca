// Backups into a repository: file trees (through sources/files) and streams
// (stdin or a command's output). Data is chunked, deduplicated against the
// repository, and referenced from tree blobs; the snapshot manifest is
// written last, once everything it references is durable.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/content.hpp"
#include "repo/repository.hpp"
#include "sources/files/walker.hpp"
#include "util/rate_limit.hpp"
#include "util/subprocess.hpp"

namespace bkp::engine {

enum class BackupType { full, incremental, differential };
std::string_view backup_type_name(BackupType t);
std::optional<BackupType> parse_backup_type(std::string_view s);

struct BackupProgress {
  std::uint64_t bytes_read = 0;
  std::uint64_t items = 0;
  std::string current;  // path being read
};
using ProgressFn = std::function<void(const BackupProgress&)>;

struct BackupReport {
  repo::Snapshot snapshot;
  std::vector<std::string> warnings;  // skipped and changed files
  bool partial = false;               // something was skipped: exit 3
};

// Where backup_files takes its entries from when they are not a walk of
// this host's file system: a source that read them elsewhere, such as the
// tar stream of a base backup taken over the replication protocol, and
// stored their contents already (the stream comes in no useful order, so
// the source keeps the metadata and chunk ids, never the data). The tree is
// then built exactly as for a walk: same tree blobs, same statistics.
class EntrySource {
 public:
  virtual ~EntrySource() = default;
  // Metadata of a directory above a root (a walk lstat()s it).
  virtual util::Result<sources::Node> parent_dir(const std::filesystem::path& dir) = 0;
  // Hands `root` and everything below it to `visitor` in the walker's
  // order: depth first, a directory's children sorted by name.
  virtual util::Status walk(const std::filesystem::path& root, sources::WalkVisitor& visitor) = 0;
  // The stored content of the regular file `path` the walk just handed over.
  virtual util::Result<StoredContent> content(const std::filesystem::path& path) = 0;
};

struct FileBackupOptions {
  std::vector<std::filesystem::path> paths;
  sources::WalkOptions walk;
  BackupType type = BackupType::incremental;
  std::vector<std::string> tags;
  std::string source_name;  // empty: "<hostname>:<paths>"
  // For sources that are a directory tree read in place (PostgreSQL
  // physical backups): the snapshot's source kind and source facts.
  std::string source_kind = "files";
  nlohmann::json extra = nlohmann::json::object();
  // Called once the tree is stored and durable, before the manifest is
  // written: may add to the snapshot's extra, or fail (no snapshot).
  std::function<util::Status(repo::Snapshot&)> before_save;
  // Given the parent snapshot, a time (ns since the epoch): a parent's file
  // is reused only when its mtime and ctime are both older, else it is read
  // again. A file written while the parent was read may keep its size and
  // (coarse) mtime; a database's page files cannot take that risk.
  std::function<std::int64_t(const repo::Snapshot& parent)> reuse_before;
  // Files that disappear between listing and reading: a warning and a
  // partial backup (files), or expected and only counted (a database's
  // data directory, where recovery recreates or drops them from the WAL).
  enum class Vanished { partial, expected } vanished = Vanished::partial;
  // Limits the bytes read from the source files (--limit-rate); null: no limit.
  std::shared_ptr<util::RateLimiter> read_limit;
  // Null: walk `paths` on this host. Otherwise `paths` are the roots the
  // source knows (absolute, not looked up here), and the caller synced the
  // repository's catalog (sync_catalog) before the source stored anything.
  std::shared_ptr<EntrySource> entries;
  // The repository's write_stats() before an entry source stored its
  // contents, so the snapshot's stats count them; unset: read here.
  std::optional<repo::WriteStats> written_before;
};

util::Result<BackupReport> backup_files(repo::Repository& repo, const FileBackupOptions& options,
                                        const ProgressFn& progress = {});

struct StreamBackupOptions {
  std::string name;                  // the file name the stream restores as; also the source
  std::vector<std::string> command;  // empty: read stdin
  std::vector<std::string> tags;
  int input_fd = 0;
};

// A failing command (non-zero exit) writes no snapshot and returns an error
// that says how it failed.
util::Result<BackupReport> backup_stream(repo::Repository& repo, const StreamBackupOptions& options,
                                         const ProgressFn& progress = {});

// One stream of a multi-stream backup: the standard output of `command`,
// stored as the file `name` of the snapshot's tree.
struct CommandStream {
  std::string name;
  std::vector<std::string> command;
  util::SpawnOptions spawn;  // its environment; stdout is always a pipe
};

struct CommandBackupOptions {
  std::string source_kind;  // "postgres", ...
  std::string source_name;  // the catalog's database_name, e.g. "postgres:app"
  std::vector<CommandStream> streams;
  std::vector<std::string> tags;
  nlohmann::json extra = nlohmann::json::object();  // source facts for the manifest
};

// Runs the commands one after the other, each streamed into the repository
// (no temporary file), and writes one snapshot holding them all. Any command
// that fails writes no snapshot.
util::Result<BackupReport> backup_commands(repo::Repository& repo,
                                           const CommandBackupOptions& options,
                                           const ProgressFn& progress = {});

// Finds the snapshot a new backup compares with: for incremental the latest
// of the source, for differential the latest full one. nullopt: none.
util::Result<std::optional<repo::Snapshot>> find_parent(repo::Repository& repo,
                                                        const std::string& source, BackupType type);

// What a repository wrote between two readings of its write_stats(), which
// count over the repository's lifetime (several backups in one process).
repo::WriteStats written_since(const repo::WriteStats& before, const repo::WriteStats& now);

}  // namespace bkp::engine
