// Copying the archived PostgreSQL WAL from one repository into another
// (bkp copy, replicas), so that a copy can do point-in-time recovery on its
// own. Each file is read from the source (checked against its SHA-256),
// chunked and stored in the target like a wal-push, and its entry written
// there create-only once its chunks are durable. See doc/copy.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "repo/repository.hpp"

namespace bkp::engine {

struct WalCopyReport {
  std::vector<std::string> copied;  // file names, in name order (or would be)
  std::uint64_t present = 0;        // archived in the target already
  // Not copied because no physical base backup in the target (after this
  // copy) needs it: what prune would remove there.
  std::uint64_t unneeded = 0;
  std::uint64_t bytes = 0;  // sizes of the files copied
  std::uint64_t stored_bytes_new = 0;
};

// Copies every archived WAL file of `source` that `target` lacks and needs.
// `incoming`: ids of source snapshots this run copies (or would copy, in a
// dry run), counted with the target's own as the base backups that need WAL.
// Both repositories must have been synced (sync_catalog).
util::Result<WalCopyReport> copy_wal(repo::Repository& source, repo::Repository& target,
                                     const std::vector<std::string>& incoming, bool dry_run);

}  // namespace bkp::engine
