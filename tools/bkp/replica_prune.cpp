#include "replica_prune.hpp"

#include <set>

#include "config/config.hpp"
#include "engine/copy.hpp"
#include "prune_output.hpp"
#include "replicas.hpp"
#include "repository_access.hpp"

namespace bkp::cli {

namespace {

util::Result<repo::Repository*> open_for_delete(Context& ctx, const std::string& location) {
  BKP_ASSIGN(auto r, open_repository_at(ctx, location, "replica"));
  BKP_TRY(r->may_delete());
  BKP_TRY(r->sync_catalog());
  ctx.other_repos.push_back(std::move(r));
  return ctx.other_repos.back().get();
}

// Of `ids`, those the replica has and does not hold; `held` gets the others
// it has.
util::Result<std::vector<std::string>> removable(repo::Repository& replica,
                                                 const std::set<std::string>& ids,
                                                 std::vector<std::string>& held) {
  BKP_ASSIGN(auto stored, engine::stored_snapshot_ids(replica));
  BKP_ASSIGN(auto holds, replica.list_holds());
  std::set<std::string> pinned;
  for (auto& h : holds) pinned.insert(h.snapshot);
  std::vector<std::string> out;
  for (auto& id : stored) {
    if (!ids.count(id)) continue;
    (pinned.count(id) ? held : out).push_back(id);
  }
  return out;
}

int failed(Context& ctx, const std::string& shown, const util::Error& e, const char* type,
           int code) {
  ctx.out.warn("replica '" + shown + "' not pruned: " + e.message);
  if (ctx.out.json())
    ctx.out.emit(type, {{"location", shown}, {"ok", false}, {"error", e.message}});
  return code == 0 ? util::exit_partial : code;
}

}  // namespace

bool replica_prune_enabled(const Context& ctx) {
  return ctx.config.get_bool("replica.prune") && !replica_locations(ctx).empty();
}

int forget_in_replicas(Context& ctx, const std::vector<std::string>& ids, engine::DryRun dry_run,
                       int code) {
  if (!replica_prune_enabled(ctx)) return code;
  const bool dry = dry_run == engine::DryRun::yes;
  const std::set<std::string> wanted(ids.begin(), ids.end());
  for (auto& location : replica_locations(ctx)) {
    std::string shown = config::redact_url(location);
    std::vector<std::string> held;
    auto done = [&]() -> util::Result<engine::ForgetResult> {
      BKP_ASSIGN(auto* replica, open_for_delete(ctx, location));
      BKP_ASSIGN(auto list, removable(*replica, wanted, held));
      return engine::forget_snapshots(*replica, list, dry_run);
    }();
    if (!done) {
      code = failed(ctx, shown, done.error(), "replica_forget", code);
      continue;
    }
    for (auto& id : held)
      ctx.out.warn("replica '" + shown + "': snapshot " + id.substr(0, 8) +
                   " is under a legal hold there and is kept");
    if (ctx.out.json()) {
      ctx.out.emit("replica_forget", {{"location", shown},
                                      {"ok", true},
                                      {"dry_run", dry},
                                      {"removed", done->removed},
                                      {"held", held}});
      continue;
    }
    for (auto& id : done->removed)
      ctx.out.info("replica '" + shown + "': " + (dry ? "would remove" : "removed") + " snapshot " +
                   id.substr(0, 8));
  }
  return code;
}

int prune_replicas(Context& ctx, const engine::PruneOptions& options, const engine::PrunePlan& plan,
                   int code) {
  if (!replica_prune_enabled(ctx)) return code;
  const bool dry = options.dry_run == engine::DryRun::yes;
  // Authenticated records only: they decide deletions elsewhere.
  auto records = engine::forgotten_snapshots(*ctx.repo);
  if (!records)
    return ctx.out.error(records.error().context("reading the primary's forget records"));
  engine::PruneOptions o;
  o.forget = *records;
  o.forget.insert(plan.forget.begin(), plan.forget.end());
  o.dry_run = options.dry_run;
  o.repack_threshold = options.repack_threshold;
  o.max_repack_size = options.max_repack_size;
  o.grace_ns = options.grace_ns;
  o.lease_ns = options.lease_ns;
  for (auto& location : replica_locations(ctx)) {
    std::string shown = config::redact_url(location);
    auto replica_plan = [&]() -> util::Result<engine::PrunePlan> {
      BKP_ASSIGN(auto* replica, open_for_delete(ctx, location));
      return engine::prune_repository(*replica, o);
    }();
    if (!replica_plan) {
      code = failed(ctx, shown, replica_plan.error(), "replica_prune", code);
      continue;
    }
    if (ctx.out.json()) {
      auto j = replica_plan->to_json();
      j["location"] = shown;
      j["ok"] = true;
      j["dry_run"] = dry;
      ctx.out.emit("replica_prune", j);
    } else {
      print_prune_plan(ctx, *replica_plan, dry, "replica '" + shown + "': ");
    }
  }
  return code;
}

}  // namespace bkp::cli
