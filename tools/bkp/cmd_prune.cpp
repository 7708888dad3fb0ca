// bkp prune: removes snapshots by a retention policy (options, else each
// source's retention.source."NAME" table or the retention.* keys) and reclaims the space of unused
// data, in two phases (mark, then delete after a grace period). Logic in lib/engine/prune.cpp; this
// file parses options and prints the plan; with replica.prune, replica_prune.cpp does the same in
// each replica.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "command.hpp"
#include "engine/prune.hpp"
#include "prune_output.hpp"
#include "replica_prune.hpp"
#include "repository_access.hpp"

namespace bkp::cli {

namespace {

struct PruneArgs {
  std::optional<unsigned> last, hourly, daily, weekly, monthly, yearly;
  std::string within;
  std::vector<std::string> tags;
  std::string source;
  bool dry_run = false;
  std::string max_repack_size;
  std::optional<double> repack_threshold;
  std::string grace;
};

// A policy from the keys under `prefix` ("retention." or
// "retention.source.<name>.").
util::Result<engine::RetentionPolicy> config_policy(const Context& ctx, const std::string& prefix) {
  engine::RetentionPolicy p;
  auto count = [&](const char* name) -> util::Result<unsigned> {
    auto key = prefix + name;
    auto v = ctx.config.get(key);
    if (!v || v->empty()) return 0u;
    if (v->find_first_not_of("0123456789") != std::string::npos || v->size() > 9)
      return util::fail(util::ErrorKind::usage, key + " must be a whole number");
    return static_cast<unsigned>(std::stoul(*v));
  };
  BKP_ASSIGN(p.last, count("keep_last"));
  BKP_ASSIGN(p.hourly, count("keep_hourly"));
  BKP_ASSIGN(p.daily, count("keep_daily"));
  BKP_ASSIGN(p.weekly, count("keep_weekly"));
  BKP_ASSIGN(p.monthly, count("keep_monthly"));
  BKP_ASSIGN(p.yearly, count("keep_yearly"));
  if (auto within = ctx.config.get(prefix + "keep_within"); within && !within->empty()) {
    auto ns = engine::parse_duration(*within);
    if (!ns) return util::fail(ns.error().context(prefix + "keep_within"));
    p.within_ns = *ns;
  }
  return p;
}

// Options win for every source; without any keep-* option each source with
// a [retention.source."NAME"] table uses it, the others the retention.* keys.
util::Result<engine::PruneOptions> options(const Context& ctx, const PruneArgs& a) {
  engine::PruneOptions o;
  bool any = a.last || a.hourly || a.daily || a.weekly || a.monthly || a.yearly ||
             !a.within.empty() || !a.tags.empty();
  if (any) {
    o.policy.last = a.last.value_or(0);
    o.policy.hourly = a.hourly.value_or(0);
    o.policy.daily = a.daily.value_or(0);
    o.policy.weekly = a.weekly.value_or(0);
    o.policy.monthly = a.monthly.value_or(0);
    o.policy.yearly = a.yearly.value_or(0);
    if (!a.within.empty()) {
      BKP_ASSIGN(o.policy.within_ns, engine::parse_duration(a.within));
    }
  } else {
    BKP_ASSIGN(o.policy, config_policy(ctx, "retention."));
    const std::string per_source = "retention.source.";
    for (auto& [key, value] : ctx.config.values()) {
      const auto* info = config::find_key(key);
      if (!info || !config::is_pattern(*info) || !key.starts_with(per_source)) continue;
      std::string name(config::pattern_name(*info, key));
      if (o.source_policies.count(name)) continue;
      BKP_ASSIGN(auto p, config_policy(ctx, per_source + name + "."));
      o.source_policies[name] = p;
    }
  }
  o.policy.tags = a.tags;
  o.source = a.source;
  o.dry_run = a.dry_run ? engine::DryRun::yes : engine::DryRun::no;
  std::string max = !a.max_repack_size.empty()
                        ? a.max_repack_size
                        : ctx.config.get("prune.max_repack_size").value_or("");
  if (!max.empty()) {
    BKP_ASSIGN(o.max_repack_size, engine::parse_size(max));
  }
  if (a.repack_threshold) {
    o.repack_threshold = *a.repack_threshold;
  } else if (auto t = ctx.config.get("prune.repack_threshold"); t && !t->empty()) {
    try {
      o.repack_threshold = std::stod(*t);
    } catch (const std::exception&) {
      return util::fail(util::ErrorKind::usage, "prune.repack_threshold must be a number");
    }
  }
  if (o.repack_threshold < 0 || o.repack_threshold > 100)
    return util::fail(util::ErrorKind::usage, "the repack threshold must be between 0 and 100");
  std::string grace = !a.grace.empty() ? a.grace : ctx.config.get("prune.grace").value_or("");
  if (grace == "0") {
    o.grace_ns = 0;
  } else if (!grace.empty()) {
    BKP_ASSIGN(o.grace_ns, engine::parse_duration(grace));
  }
  if (auto lease = ctx.config.get("prune.lease"); lease && !lease->empty()) {
    BKP_ASSIGN(o.lease_ns, engine::parse_duration(*lease));
    if (o.lease_ns < 1'000'000'000)
      return util::fail(util::ErrorKind::usage, "prune.lease must be at least 1s");
  }
  return o;
}

}  // namespace

RunFn setup_prune(CLI::App& sub) {
  auto a = std::make_shared<PruneArgs>();
  sub.add_option("--keep-last", a->last, "keep the newest N snapshots");
  sub.add_option("--keep-hourly", a->hourly, "keep the newest snapshot of each of N hours");
  sub.add_option("--keep-daily", a->daily, "keep the newest snapshot of each of N days");
  sub.add_option("--keep-weekly", a->weekly, "keep the newest snapshot of each of N weeks");
  sub.add_option("--keep-monthly", a->monthly, "keep the newest snapshot of each of N months");
  sub.add_option("--keep-yearly", a->yearly, "keep the newest snapshot of each of N years");
  sub.add_option("--keep-within", a->within,
                 "keep snapshots within DURATION of the newest (e.g. 30d, 12h)");
  sub.add_option("--keep-tag", a->tags, "keep snapshots with this tag (repeatable)");
  sub.add_option("--source", a->source, "apply the policy only to this source's snapshots");
  sub.add_flag("--dry-run", a->dry_run, "print the plan, change nothing");
  sub.add_option("--max-repack-size", a->max_repack_size,
                 "copy at most SIZE of live data out of partly unused packs (e.g. 2G)");
  sub.add_option("--repack-threshold", a->repack_threshold,
                 "rewrite packs at least PCT percent unused (default 20)");
  sub.add_option("--grace", a->grace,
                 "wait DURATION between marking packs and deleting them (default 6h; 0: at once)");
  return [a](Context& ctx) {
    auto& repo = *ctx.repo;
    if (auto st = repo.may_delete(); !st) return ctx.out.error(st.error());
    auto o = options(ctx, *a);
    if (!o) return ctx.out.error(o.error());
    if (!a->dry_run) rotate_keys_by_age(ctx);
    if (auto st = repo.sync_catalog(); !st) return ctx.out.error(st.error());
    auto plan = engine::prune_repository(repo, *o);
    if (!plan) return ctx.out.error(plan.error());
    if (ctx.out.json()) {
      auto j = plan->to_json();
      j["dry_run"] = a->dry_run;
      ctx.out.emit("prune", j);
    } else {
      print_prune_plan(ctx, *plan, a->dry_run, "");
    }
    return prune_replicas(ctx, *o, *plan);
  };
}

}  // namespace bkp::cli
