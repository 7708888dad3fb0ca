// bkp forget SNAPSHOT...: removes snapshots (their data stays until prune);
// with replica.prune, from every replica too (replica_prune.cpp).
#include <CLI/CLI.hpp>

#include "command.hpp"
#include "engine/prune.hpp"
#include "engine/snapshots.hpp"
#include "replica_prune.hpp"

namespace bkp::cli {

RunFn setup_forget(CLI::App& sub) {
  auto specs = std::make_shared<std::vector<std::string>>();
  auto dry_run = std::make_shared<bool>(false);
  sub.add_option("snapshots", *specs, "snapshots to remove (id, unique prefix or latest)")
      ->required();
  sub.add_flag("--dry-run", *dry_run, "show what would be removed, remove nothing");
  return [specs, dry_run](Context& ctx) {
    auto& repo = *ctx.repo;
    if (auto st = repo.may_delete(); !st) return ctx.out.error(st.error());
    if (auto st = repo.sync_catalog(); !st) return ctx.out.error(st.error());
    std::vector<std::string> ids;
    for (auto& s : *specs) {
      auto snap = engine::resolve_snapshot(repo, s);
      if (!snap) return ctx.out.error(snap.error());
      ids.push_back(snap->id);
    }
    auto mode = *dry_run ? engine::DryRun::yes : engine::DryRun::no;
    auto result = engine::forget_snapshots(repo, ids, mode);
    if (!result) return ctx.out.error(result.error());
    if (ctx.out.json()) {
      ctx.out.emit("forget", {{"dry_run", *dry_run}, {"removed", result->removed}});
    } else {
      for (auto& id : result->removed)
        ctx.out.info(std::string(*dry_run ? "would remove" : "removed") + " snapshot " +
                     id.substr(0, 8));
    }
    int code = forget_in_replicas(ctx, result->removed, mode);
    if (!*dry_run && !ctx.out.json()) ctx.out.info("run bkp prune to reclaim the space");
    return code;
  };
}

}  // namespace bkp::cli
