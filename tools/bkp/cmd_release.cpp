// bkp release SNAPSHOT: removes a legal hold (bkp hold).
#include <CLI/CLI.hpp>

#include "command.hpp"
#include "engine/snapshots.hpp"

namespace bkp::cli {

RunFn setup_release(CLI::App& sub) {
  auto spec = std::make_shared<std::string>();
  sub.add_option("snapshot", *spec, "held snapshot (id, unique prefix or latest)")->required();
  return [spec](Context& ctx) {
    auto& repo = *ctx.repo;
    if (auto st = repo.may_delete(); !st) return ctx.out.error(st.error());
    if (auto st = repo.sync_catalog(); !st) return ctx.out.error(st.error());
    auto snap = engine::resolve_snapshot(repo, *spec);
    if (!snap) return ctx.out.error(snap.error());
    if (auto st = repo.remove_hold(snap->id); !st) return ctx.out.error(st.error());
    if (ctx.out.json()) {
      ctx.out.emit("release", {{"snapshot", snap->id}});
    } else {
      ctx.out.info("snapshot " + snap->id.substr(0, 8) + " is no longer held");
    }
    return 0;
  };
}

}  // namespace bkp::cli
