#include <CLI/CLI.hpp>

#include "command.hpp"
#include "engine/snapshots.hpp"

namespace bkp::cli {

RunFn setup_diff(CLI::App& sub) {
  auto specs = std::make_shared<std::vector<std::string>>();
  sub.add_option("snapshots", *specs, "the two snapshots to compare: OLD NEW")
      ->expected(2)
      ->required();
  return [specs](Context& ctx) {
    auto& repo = *ctx.repo;
    if (auto st = repo.sync_catalog(); !st) return ctx.out.error(st.error());
    auto a = engine::resolve_snapshot(repo, (*specs)[0]);
    if (!a) return ctx.out.error(a.error());
    auto b = engine::resolve_snapshot(repo, (*specs)[1]);
    if (!b) return ctx.out.error(b.error());
    ctx.audit.snapshots = {a->id, b->id};
    std::map<char, int> counts;
    auto st = engine::diff_snapshots(repo, *a, *b, [&](const engine::DiffEntry& e) {
      char c = engine::change_symbol(e.change);
      ++counts[c];
      if (ctx.out.json()) {
        ctx.out.emit("change", {{"change", std::string(1, c)}, {"path", e.path}});
      } else {
        ctx.out.data(std::string(1, c) + "    " + e.path);
      }
    });
    if (!st) return ctx.out.error(st.error());
    if (ctx.out.json()) {
      ctx.out.emit("diff_summary", {{"added", counts['+']},
                                    {"removed", counts['-']},
                                    {"modified", counts['M']},
                                    {"metadata", counts['U']}});
    } else {
      ctx.out.info(std::to_string(counts['+']) + " added, " + std::to_string(counts['-']) +
                   " removed, " + std::to_string(counts['M']) + " modified, " +
                   std::to_string(counts['U']) + " metadata changed");
    }
    return 0;
  };
}

}  // namespace bkp::cli
