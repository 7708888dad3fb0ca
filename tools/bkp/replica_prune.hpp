// replica.prune: bkp forget and bkp prune carry their removals to every
// replica (the `replicas` setting), each replica planned and (unless a dry
// run) pruned on its own. Without the setting both return `code` untouched.
#pragma once

#include <string>
#include <vector>

#include "context.hpp"
#include "engine/prune.hpp"

namespace bkp::cli {

bool replica_prune_enabled(const Context& ctx);

// After the primary forgot `ids`: forgets those each replica has (held
// ones are kept, with a warning). A replica that fails is a warning and
// turns `code` 0 into 3 (partial). Returns the exit code.
int forget_in_replicas(Context& ctx, const std::vector<std::string>& ids, engine::DryRun dry_run,
                       int code = 0);

// After the primary's prune: in each replica, forgets every snapshot the
// primary has a forget record for (and, in a dry run, those `plan` would
// forget), then prunes its unused data with `options`' grace, repack and
// lease settings (not its retention policy: a replica keeps what the
// primary keeps). Prints each replica's plan. Returns the exit code.
int prune_replicas(Context& ctx, const engine::PruneOptions& options, const engine::PrunePlan& plan,
                   int code = 0);

}  // namespace bkp::cli
