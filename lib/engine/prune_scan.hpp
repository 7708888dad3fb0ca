// What prune reads before deciding anything: every index segment, pack,
// mark and snapshot in storage (not the catalog, which may lag behind other
// hosts), and the set of blobs the remaining snapshots and WAL entries
// reference. Internal to prune.
#pragma once

#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "repo/index_segment.hpp"
#include "repo/repository.hpp"
#include "repo/wal_entry.hpp"

namespace bkp::engine {

using BlobSet = std::unordered_set<repo::BlobId, repo::IdHash>;

struct ScannedPack {
  bool stored = false;
  std::uint64_t size = 0;
  std::vector<repo::PackHeaderEntry> entries;  // empty when no segment names it
  std::vector<std::string> segments;           // segments naming it
};

struct RepoScan {
  std::unordered_map<repo::PackId, ScannedPack, repo::IdHash> packs;
  std::vector<std::string> segments;
  // Where each blob is: every (pack, entry index) naming it.
  std::unordered_map<repo::BlobId, std::vector<std::pair<repo::PackId, std::size_t>>, repo::IdHash>
      blobs;
  std::vector<std::pair<std::string, repo::PruneMark>> marks;
  std::vector<repo::Snapshot> snapshots;
  // Manifests sealed under a shredded key domain: unreadable for good, so
  // prune forgets them (doc/key-domains.md).
  std::vector<std::string> shredded;
  std::vector<std::pair<std::string, repo::WalEntry>> wal;  // object name, entry
  // WAL entries sealed under a shredded key domain (a shred killed before
  // it removed them): names nothing readable, so prune deletes them.
  std::vector<std::string> shredded_wal;
};

// Reads segments, lists packs, reads marks and snapshot manifests.
util::Status scan_repository(repo::Repository& repo, RepoScan& scan);

// Blobs reachable from `roots` (trees and their contents) plus those named
// by WAL entries other than `wal_gone` (those this run deletes). A tree that cannot be read stops
// prune: it cannot know what the snapshot needs.
util::Result<BlobSet> referenced_blobs(repo::Repository& repo, const RepoScan& scan,
                                       const std::vector<const repo::Snapshot*>& roots,
                                       const std::set<std::string>& wal_gone);

// The copy of blob `id` prune keeps: in an unmarked stored pack if there is
// one, else in a marked one (which is then needed again); nullptr when no
// stored pack holds it. (pack, entry index) into `scan`.
const std::pair<repo::PackId, std::size_t>* keeper_of(const RepoScan& scan,
                                                      const std::set<repo::PackId>& marked,
                                                      const repo::BlobId& id);

}  // namespace bkp::engine
