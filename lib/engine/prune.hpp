// Forget and prune: removing snapshots (explicitly or by a retention
// policy) and reclaiming the space of data no snapshot references, with
// two-phase deletion so that prune never races a backup. See doc/prune.md.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/retention.hpp"
#include "repo/prune_lease.hpp"
#include "repo/repository.hpp"

namespace bkp::engine {

enum class DryRun { no, yes };

inline constexpr std::int64_t kDefaultGraceNs = 6LL * 3600 * 1'000'000'000;

struct ForgetResult {
  std::vector<std::string> removed;  // snapshot ids
};
// Removes the snapshots' manifests (their data stays until prune). Refuses
// the whole request, changing nothing, when any of them is held.
util::Result<ForgetResult> forget_snapshots(repo::Repository& repo,
                                            const std::vector<std::string>& ids, DryRun dry_run);

// Snapshots forgotten on purpose, by their forget records: by name only
// (needs no key that opens them: what a copy into a repository opened with
// a backup slot can know), or each record read and authenticated (what a
// decision to delete elsewhere, or verify, may rest on).
util::Result<std::set<std::string>> forgotten_names(repo::Repository& repo);
util::Result<std::set<std::string>> forgotten_snapshots(repo::Repository& repo);

struct PruneOptions {
  RetentionPolicy policy;  // empty: remove no snapshots, only collect garbage
  // A source's own policy, used instead of `policy` for its snapshots
  // ([retention.source."NAME"] in the configuration).
  std::map<std::string, RetentionPolicy> source_policies;
  std::string source;  // apply the policy only to this source's snapshots
  // Snapshots to remove whatever the policy says (a replica's prune: those
  // the primary forgot); ids not in the repository, and held ones, are
  // left out.
  std::set<std::string> forget;
  DryRun dry_run = DryRun::no;
  double repack_threshold = 20;  // percent of a pack that is garbage
  std::uint64_t max_repack_size = UINT64_MAX;
  std::int64_t grace_ns = kDefaultGraceNs;
  // For `keys rotate --reencrypt` (engine/reencrypt.cpp): packs repacked
  // whatever their garbage, and the keys whose blobs a repack seals again
  // with the current key (other blobs are copied as they are).
  std::set<repo::PackId> rewrite;
  std::set<repo::KeyId> reseal;
  // Lifetime of the prune lease (repo/prune_lease.hpp): how long a crashed
  // prune keeps others out. Renewed while this one runs.
  std::int64_t lease_ns = repo::kDefaultPruneLeaseNs;
};

struct PackStat {
  repo::PackId id{};
  std::uint64_t size = 0;        // bytes in storage
  std::uint64_t live_bytes = 0;  // stored bytes of blobs still needed
};

struct PrunePlan {
  std::vector<PolicyDecision> decisions;      // every snapshot the policy looked at
  std::vector<std::string> forget;            // snapshot ids removed
  std::vector<PackStat> mark;                 // wholly unused: marked now, deleted after grace
  std::vector<PackStat> repack;               // partly unused: live blobs copied, then marked
  std::vector<repo::PackId> delete_now;       // marked earlier, grace over, still unused
  std::vector<repo::PackId> kept_marked;      // marked earlier but referenced again: kept
  std::vector<std::string> due_marks;         // marks finished by this run
  std::vector<std::string> rewrite_segments;  // index segments naming deleted packs
  std::uint64_t bytes_freed_now = 0;          // by delete_now
  std::uint64_t bytes_marked = 0;             // freed by a prune after the grace period
  std::uint64_t bytes_repacked = 0;           // live bytes copied
  std::uint64_t packs_total = 0, snapshots_total = 0;
  // WAL retention (object names "wal/<timeline>/<file>"): files no kept
  // base backup needs are marked, then deleted by a prune after the grace
  // period; entries naming a pack that goes are pointed at the blob's copy
  // that stays.
  std::vector<std::string> wal_mark, wal_delete_now, wal_rewrite;
  std::uint64_t wal_bytes_marked = 0, wal_bytes_freed = 0;  // WAL file sizes
  std::string delete_after;                                 // of the mark this run writes
  nlohmann::json to_json() const;
};

// Plans and (unless dry_run) carries out a prune. Needs an admin slot.
// Holds the prune lease meanwhile (not for a dry run): ErrorKind::locked
// when another prune runs.
util::Result<PrunePlan> prune_repository(repo::Repository& repo, const PruneOptions& options);

}  // namespace bkp::engine
