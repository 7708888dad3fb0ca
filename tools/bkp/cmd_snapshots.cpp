#include <CLI/CLI.hpp>

#include <cstdio>

#include "command.hpp"
#include "engine/snapshots.hpp"

namespace bkp::cli {

RunFn setup_snapshots(CLI::App& sub) {
  auto filter = std::make_shared<engine::SnapshotFilter>();
  sub.add_option("--source", filter->source, "only snapshots of this source");
  sub.add_option("--tag", filter->tags, "only snapshots with this tag (repeatable: all of them)");
  return [filter](Context& ctx) {
    auto& repo = *ctx.repo;
    if (auto st = repo.sync_catalog(); !st) return ctx.out.error(st.error());
    auto list = engine::list_snapshots(repo, *filter);
    if (!list) return ctx.out.error(list.error());
    // Oldest first, like a log, so the newest is last (next to the prompt).
    if (ctx.out.json()) {
      for (auto it = list->rbegin(); it != list->rend(); ++it) ctx.out.emit("snapshot", it->to_json());
      return 0;
    }
    if (list->empty()) {
      ctx.out.info("no snapshots");
      return 0;
    }
    char line[512];
    std::snprintf(line, sizeof line, "%-8s  %-19s  %-12s  %-10s  %s", "ID", "TIME", "TYPE", "SIZE",
                  "SOURCE");
    ctx.out.data(line);
    for (auto it = list->rbegin(); it != list->rend(); ++it) {
      auto& s = *it;
      std::string when = s.time.substr(0, 19);
      when[10] = ' ';
      auto size = human_bytes(s.stats.value("total_bytes", 0ull));
      std::string source = s.source_name;
      if (!s.tags.empty()) {
        source += "  [";
        for (size_t i = 0; i < s.tags.size(); ++i) source += (i ? "," : "") + s.tags[i];
        source += "]";
      }
      std::snprintf(line, sizeof line, "%-8s  %-19s  %-12s  %-10s  %s", s.id.substr(0, 8).c_str(),
                    when.c_str(), s.backup_type.c_str(), size.c_str(), source.c_str());
      ctx.out.data(line);
    }
    return 0;
  };
}

}  // namespace bkp::cli
