// `bkp keys shred --domain D`: crypto-shredding. The domain's keys are
// destroyed, so every snapshot and blob sealed under them becomes
// unreadable at once, wherever copies of the storage are; then the
// snapshots are forgotten and prune deletes their data. See
// doc/key-domains.md and doc/compliance.md.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/prune.hpp"
#include "repo/repository.hpp"

namespace bkp::engine {

struct ShreddedSnapshot {
  std::string id, time, source;  // time and source empty once unreadable
};

struct ShredPlan {
  std::string domain;
  repo::KeyId key{};
  bool already_shredded = false;            // a run killed after the keys went
  std::vector<ShreddedSnapshot> snapshots;  // sealed under the domain
  // WAL entries sealed under the domain (wal-push --key-domain): deleted
  // once the keys are gone, so the archive does not name what cannot be
  // read; their data, unreadable already, goes with the next prune.
  std::vector<std::string> wal;
  nlohmann::json to_json() const;
};

// What shredding `domain` makes unreadable. Refuses (permission) when one
// of its snapshots is under a legal hold. Admin only.
util::Result<ShredPlan> plan_shred(repo::Repository& repo, const std::string& domain);
// Destroys the keys, then forgets the snapshots and deletes the WAL entries.
util::Status shred(repo::Repository& repo, const ShredPlan& plan);

}  // namespace bkp::engine
