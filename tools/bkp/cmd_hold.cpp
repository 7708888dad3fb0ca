// bkp hold SNAPSHOT [--reason TEXT]: a legal hold; no policy and no forget
// removes the snapshot until bkp release.
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <cstdlib>

#include "command.hpp"
#include "engine/snapshots.hpp"

namespace bkp::cli {

RunFn setup_hold(CLI::App& sub) {
  auto spec = std::make_shared<std::string>();
  auto reason = std::make_shared<std::string>();
  sub.add_option("snapshot", *spec, "snapshot to hold (id, unique prefix or latest)")->required();
  sub.add_option("--reason", *reason, "why it is held (a case number, a request)");
  return [spec, reason](Context& ctx) {
    auto& repo = *ctx.repo;
    if (auto st = repo.may_delete(); !st) return ctx.out.error(st.error());
    if (auto st = repo.sync_catalog(); !st) return ctx.out.error(st.error());
    auto snap = engine::resolve_snapshot(repo, *spec);
    if (!snap) return ctx.out.error(snap.error());
    repo::Hold hold;
    hold.snapshot = snap->id;
    hold.reason = *reason;
    const char* user = std::getenv("USER");
    hold.username = user ? user : std::to_string(::getuid());
    if (auto st = repo.put_hold(hold); !st) return ctx.out.error(st.error());
    if (ctx.out.json()) {
      ctx.out.emit("hold", {{"snapshot", snap->id}, {"reason", *reason}});
    } else {
      ctx.out.info("snapshot " + snap->id.substr(0, 8) + " is held");
    }
    return 0;
  };
}

}  // namespace bkp::cli
