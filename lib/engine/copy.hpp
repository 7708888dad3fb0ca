// Copying snapshots from one repository into another (bkp copy, replicas).
// A copied snapshot keeps its id, so "is it there already" is a name in the
// target's storage, and the same snapshot can be named in either repository.
// Only chunks the target lacks are written. When the two repositories have
// different chunk-id keys, every chunk is read, its id recomputed under the
// target's key and the trees rewritten to match (trees name chunks by id).
//
// Crash safety comes from the target's own write order: chunks and trees
// are durable and indexed before the snapshot manifest is written, so a copy
// stopped at any point leaves the target as after an interrupted backup
// (at worst unreferenced packs), and the next copy finishes the job.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/snapshots.hpp"
#include "repo/repository.hpp"

namespace bkp::engine {

struct CopyOptions {
  // Source snapshot ids (already resolved); empty: every snapshot matching
  // `filter` except those the target forgot (it has a forget record for
  // them). A snapshot named here is copied even then, and its forget
  // record in the target removed.
  std::vector<std::string> snapshot_ids;
  SnapshotFilter filter;
  bool dry_run = false;
};

struct CopiedSnapshot {
  std::string id;
  std::string source_name;
  std::string time;
  bool copied = false;     // false: the target had it already (or forgot it)
  bool forgotten = false;  // not copied: the target forgot it on purpose
  std::uint64_t blobs_new = 0, raw_bytes_new = 0, stored_bytes_new = 0;
};

struct CopyReport {
  std::vector<CopiedSnapshot> snapshots;  // oldest first
  // True when the two repositories name chunks alike: only missing chunks
  // were read from the source.
  bool same_chunk_ids = false;
  std::uint64_t blobs_read = 0;  // chunks and trees read from the source
  std::uint64_t copied() const;
  std::uint64_t skipped() const;
  std::uint64_t forgotten() const;
};

// Called after each snapshot is written (or found present).
using CopyProgressFn = std::function<void(const CopiedSnapshot&)>;

// Both repositories must have been synced (sync_catalog). The source must be
// readable (not a backup-only slot); the target may be one.
util::Result<CopyReport> copy_snapshots(repo::Repository& source, repo::Repository& target,
                                        const CopyOptions& options,
                                        const CopyProgressFn& progress = {});

// Ids of the snapshots in a repository's storage (names only: needs no key
// that opens them).
util::Result<std::vector<std::string>> stored_snapshot_ids(repo::Repository& repo);

}  // namespace bkp::engine
