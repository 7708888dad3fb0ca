// Naming snapshots the way users do ("latest", a unique id prefix), listing
// them, and comparing two of them.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "engine/tree.hpp"
#include "repo/repository.hpp"

namespace bkp::engine {

struct SnapshotFilter {
  std::string source;
  std::vector<std::string> tags;  // all must be present
};

// "latest" (newest matching the filter) or a unique prefix of an id (4 hex
// digits at least). ErrorKind::not_found or usage (ambiguous).
util::Result<repo::Snapshot> resolve_snapshot(repo::Repository& repo, const std::string& spec,
                                              const SnapshotFilter& filter = {});
// Newest first.
util::Result<std::vector<repo::Snapshot>> list_snapshots(repo::Repository& repo,
                                                         const SnapshotFilter& filter = {});

enum class Change { added, removed, modified, metadata };
char change_symbol(Change c);  // '+', '-', 'M', 'U'
struct DiffEntry {
  Change change;
  std::string path;
};
util::Status diff_snapshots(repo::Repository& repo, const repo::Snapshot& a,
                            const repo::Snapshot& b,
                            const std::function<void(const DiffEntry&)>& out);

}  // namespace bkp::engine
