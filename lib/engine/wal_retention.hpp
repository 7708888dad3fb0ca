// WAL retention for prune: which archived WAL files no kept physical base
// backup needs, and keeping WAL entries pointed at live packs when prune
// repacks. Internal to prune; see doc/prune.md ("WAL retention").
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "engine/prune.hpp"
#include "engine/prune_scan.hpp"
#include "repo/repository.hpp"
#include "repo/wal_entry.hpp"

namespace bkp::engine {

using WalObjects = std::vector<std::pair<std::string, repo::WalEntry>>;  // object name, entry

// The object names of archived segments (and .partial files) that every
// kept physical PostgreSQL base backup in `kept` can do without: on a base
// backup's own timeline, the names sorting before its start segment; on
// the timelines its history says it descends from, all of them. WAL on any
// other timeline (a descendant, or one whose relation is unknown because
// a .history file is missing) is kept, as are .history and .backup files.
// No kept base backup, or one that does not record its start segment:
// nothing is removable (WAL is never removed on a guess).
util::Result<std::set<std::string>> unneeded_wal(repo::Repository& repo, const WalObjects& wal,
                                                 const std::vector<const repo::Snapshot*>& kept);

// Writes `entry` again under `object` (overwriting it: same name, size and
// SHA-256, only the chunk locations differ), sealed with the current key.
util::Status rewrite_wal_entry(repo::Repository& repo, const std::string& object,
                               const repo::WalEntry& entry);

// Fills plan.wal_mark (unneeded files no mark names yet) and
// plan.wal_delete_now (unneeded files a due mark names; with grace 0, all
// unneeded files). Returns the object names this run deletes.
std::set<std::string> plan_wal_retention(const RepoScan& scan,
                                         const std::set<std::string>& unneeded,
                                         const std::set<std::string>& marked_wal,
                                         const std::set<std::string>& due_wal,
                                         std::int64_t grace_ns, PrunePlan& plan);

// Fills plan.wal_rewrite: entries that stay but name a pack this run marks
// or deletes (or one already gone). Call once the pack decisions are final.
void plan_wal_rewrites(const RepoScan& scan, const std::set<std::string>& wal_gone,
                       PrunePlan& plan);

// Rewrites plan.wal_rewrite's entries, each chunk that sat in a pack that
// goes now naming its copy in `moved` (the packs this run's repack wrote)
// or its keeper in a pack that stays.
util::Status rewrite_wal_entries(repo::Repository& repo, const RepoScan& scan,
                                 const std::set<repo::PackId>& marked,
                                 const std::vector<repo::IndexedPack>& moved,
                                 const PrunePlan& plan);

}  // namespace bkp::engine
