// `bkp keys rotate --reencrypt [--retire KEY]`: every object sealed with a
// data key being retired is sealed again with the current key, then the
// key is destroyed. Packs move through prune's repack and two-phase
// deletion; other objects are rewritten in place (or, index segments,
// under a new name). Every step is idempotent and the state is read back
// from storage, so a run killed at any point is finished by the next one.
// See doc/key-rotation.md.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/prune.hpp"
#include "repo/repository.hpp"

namespace bkp::engine {

struct ReencryptOptions {
  // The key to retire; without it, every data key but the current one and
  // the index key, and every backup session's key.
  std::optional<repo::KeyId> retire;
  DryRun dry_run = DryRun::no;
  std::int64_t grace_ns = kDefaultGraceNs;  // as prune's: old packs, and the keys, wait this long
  // The packs are rewritten by prune, under its lease (prune.lease).
  std::int64_t lease_ns = repo::kDefaultPruneLeaseNs;
};

struct ObjectCount {
  std::uint64_t objects = 0, bytes = 0;
};

struct ReencryptPlan {
  bool dry_run = false;
  repo::KeyId current{};
  bool rotated = false;  // the key to retire was current: a new data key was made first
  std::vector<repo::KeyId> retiring;
  // Objects sealed with a retiring key when the run started, by kind
  // ("packs", "index", "snapshots", "wal", "holds", "prune_marks",
  // "key_retirements").
  std::map<std::string, ObjectCount> rewrite;
  std::uint64_t bytes_repacked = 0;    // live blob bytes moved to new packs
  std::vector<repo::KeyId> destroyed;  // keys gone for good in this run
  std::vector<std::string> waiting;    // why a key could not be destroyed yet
  nlohmann::json to_json() const;
};

// Plans and (unless dry_run) carries out the rewrite. Needs an admin slot.
util::Result<ReencryptPlan> reencrypt_repository(repo::Repository& repo,
                                                 const ReencryptOptions& options);

}  // namespace bkp::engine
