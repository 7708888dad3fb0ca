#include "prune_output.hpp"

namespace bkp::cli {

void print_prune_plan(const Context& ctx, const engine::PrunePlan& plan, bool dry_run,
                      const std::string& where) {
  auto say = [&](const std::string& line) { ctx.out.info(where + line); };
  std::string verb = dry_run ? "would " : "";
  for (auto& id : plan.forget)
    say(verb + (dry_run ? "remove" : "removed") + " snapshot " + id.substr(0, 8));
  say(std::to_string(plan.forget.size()) + " of " + std::to_string(plan.snapshots_total) +
      " snapshots " + (dry_run ? "would be " : "") + "removed");
  say(std::to_string(plan.delete_now.size()) + " packs " + (dry_run ? "would be " : "") +
      "deleted (" + human_bytes(plan.bytes_freed_now) + " freed), " +
      std::to_string(plan.kept_marked.size()) +
      " marked packs kept because snapshots need them again");
  say(std::to_string(plan.mark.size()) + " unused and " + std::to_string(plan.repack.size()) +
      " partly unused packs " + (dry_run ? "would be " : "") + "marked (" +
      human_bytes(plan.bytes_marked) + ", " + human_bytes(plan.bytes_repacked) +
      " of live data copied), deleted by a "
      "prune after " +
      plan.delete_after);
  if (!plan.wal_mark.empty() || !plan.wal_delete_now.empty() || !plan.wal_rewrite.empty()) {
    auto file = [](const std::string& object) { return object.substr(object.rfind('/') + 1); };
    for (auto& w : plan.wal_delete_now)
      say(verb + (dry_run ? "delete" : "deleted") + " WAL file " + file(w));
    std::string would = dry_run ? "would be " : "";
    say("WAL: " + std::to_string(plan.wal_delete_now.size()) + " files " + would + "deleted (" +
        human_bytes(plan.wal_bytes_freed) + "), " + std::to_string(plan.wal_mark.size()) +
        " that no kept base backup needs " + would + "marked (" +
        human_bytes(plan.wal_bytes_marked) + "), " + std::to_string(plan.wal_rewrite.size()) +
        " entries " + would + "pointed at moved data");
  }
}

}  // namespace bkp::cli
