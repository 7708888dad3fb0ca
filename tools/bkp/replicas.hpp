// Replica repositories named by the `replicas` setting: every backup is
// copied there once it is complete (bkp backup), and bkp verify --replicas
// checks that they agree with the primary repository.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "context.hpp"

namespace bkp::cli {

// The replica locations from the configuration (the environment variable
// separates them by spaces, a TOML list by elements).
std::vector<std::string> replica_locations(const Context& ctx);

// Copies every snapshot of ctx.repo that a replica lacks into each replica.
// A replica that fails is named in a warning and turns `code` 0 into exit 3
// (partial): the backup itself stands. Returns the exit code.
int replicate(Context& ctx, int code);

// wal-push: archives the file in each replica too, after the primary has
// it. A replica that fails is named in a warning only: the exit code stays
// 0, so that PostgreSQL does not keep the segment (and all after it) in
// pg_wal while a replica is down; the next backup's replica run copies
// what is missing (engine::copy_wal).
void push_wal_to_replicas(Context& ctx, const std::filesystem::path& path);

// verify --replicas: the problems found (each naming the replica), for the
// caller to add to its own; prints a JSON object per replica.
std::vector<std::string> check_replicas(Context& ctx);

}  // namespace bkp::cli
