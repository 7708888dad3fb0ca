// Restores a snapshot: into a directory (with all metadata), one file to a
// stream, or the whole selection as a tar archive. Every restore is a row of
// recovery_jobs, with its progress updated while it runs.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "repo/repository.hpp"

namespace bkp::engine {

class RecoveryJob;

enum class OverwritePolicy { never, if_changed, always };
std::optional<OverwritePolicy> parse_overwrite(std::string_view s);
enum class VerifyWrites { no, yes };

struct RestoreFilter {
  std::vector<std::string> includes;  // snapshot paths or globs; empty = all
  std::vector<std::string> excludes;
  // Whether `path` (absolute, in the snapshot) is selected, and whether a
  // directory must be descended into to reach selected entries.
  bool selects(const std::string& path) const;
  bool may_contain(const std::string& dir) const;
};

struct RestoreOptions {
  std::filesystem::path target;
  RestoreFilter filter;
  OverwritePolicy overwrite = OverwritePolicy::if_changed;
  VerifyWrites verify = VerifyWrites::no;
  // A directory of the snapshot ("/var/lib/postgresql/15/main") whose
  // contents go straight into target; empty: the whole snapshot, each path
  // below target.
  std::string root;
  // A job of a larger restore (point-in-time recovery) that this one is a
  // step of: progress and steps go there, and the caller starts and
  // finishes it. Null: the restore is its own job.
  RecoveryJob* job = nullptr;
};

struct RestoreProgress {
  std::uint64_t bytes = 0, total_bytes = 0, items = 0;
};
using RestoreProgressFn = std::function<void(const RestoreProgress&)>;

struct RestoreReport {
  std::string job_id;
  std::uint64_t files = 0, dirs = 0, others = 0, bytes = 0, skipped_existing = 0;
  std::vector<std::string> warnings;
  std::vector<std::string> damaged;  // files skipped because their data is damaged
  bool partial = false;
};

util::Result<RestoreReport> restore_to_directory(repo::Repository& repo, const repo::Snapshot& snap,
                                                 const RestoreOptions& options,
                                                 const RestoreProgressFn& progress = {});
// Writes the content of the file at `path` to `fd`.
util::Status restore_to_stream(repo::Repository& repo, const repo::Snapshot& snap,
                               const std::string& path, int fd);
// Writes a POSIX (pax) tar archive of the selection to `fd`.
util::Result<RestoreReport> restore_to_tar(repo::Repository& repo, const repo::Snapshot& snap,
                                           const RestoreFilter& filter, int fd);

}  // namespace bkp::engine
