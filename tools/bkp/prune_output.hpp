// Printing a prune plan: the primary repository's, and each replica's when
// replica.prune is set (tools/bkp/replica_prune.cpp).
#pragma once

#include <string>

#include "context.hpp"
#include "engine/prune.hpp"

namespace bkp::cli {

// Text lines on stderr (would-... with dry_run), each prefixed with
// `where` ("" for the primary, "replica '...': " for a replica).
void print_prune_plan(const Context& ctx, const engine::PrunePlan& plan, bool dry_run,
                      const std::string& where);

}  // namespace bkp::cli
