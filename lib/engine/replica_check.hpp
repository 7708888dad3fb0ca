// bkp verify --replicas: does a replica hold every snapshot of the primary
// repository, with the same content? Copies keep snapshot ids (see
// copy.hpp), so snapshots are matched by id. Content is compared without
// reading data: when both repositories share the chunk-id key the root tree
// ids must be equal; otherwise every tree is compared node by node (names,
// metadata, and the number and sizes of each file's chunks, which a copy
// never changes), since chunk ids differ by design.
#pragma once

#include <string>
#include <vector>

#include "repo/repository.hpp"

namespace bkp::engine {

struct ReplicaReport {
  std::uint64_t snapshots = 0;           // of the primary, checked
  std::vector<std::string> missing;      // primary snapshot ids the replica lacks
  std::vector<std::string> forgotten;    // ... but forgot on purpose (not a problem)
  std::vector<std::string> differences;  // one line each: snapshot id and what differs
  std::vector<std::string> extra;        // in the replica only (e.g. forgotten on the primary)
  bool ok() const { return missing.empty() && differences.empty(); }
};

// Both repositories must have been synced. The replica must be readable.
util::Result<ReplicaReport> compare_replica(repo::Repository& primary, repo::Repository& replica);

}  // namespace bkp::engine
