#include "replicas.hpp"

#include <sstream>

#include "config/config.hpp"
#include "engine/copy.hpp"
#include "engine/replica_check.hpp"
#include "engine/wal.hpp"
#include "engine/wal_copy.hpp"
#include "repository_access.hpp"

namespace bkp::cli {

std::vector<std::string> replica_locations(const Context& ctx) {
  std::vector<std::string> out;
  for (auto& entry : ctx.config.get_list("replicas")) {
    std::istringstream words(entry);
    for (std::string w; words >> w;) out.push_back(w);
  }
  return out;
}

namespace {

util::Result<repo::Repository*> open_replica(Context& ctx, const std::string& location) {
  BKP_ASSIGN(auto r, open_repository_at(ctx, location, "replica"));
  BKP_TRY(r->sync_catalog());
  ctx.other_repos.push_back(std::move(r));
  return ctx.other_repos.back().get();
}

}  // namespace

int replicate(Context& ctx, int code) {
  auto locations = replica_locations(ctx);
  if (locations.empty()) return code;
  bool failed = false;
  for (auto& location : locations) {
    std::string shown = config::redact_url(location);
    engine::WalCopyReport wal;
    auto copied = [&]() -> util::Result<engine::CopyReport> {
      BKP_ASSIGN(auto* replica, open_replica(ctx, location));
      BKP_ASSIGN(auto report, engine::copy_snapshots(*ctx.repo, *replica, {}));
      // WAL that wal-push could not send there (the replica was down) and
      // WAL archived before the replica was configured.
      std::vector<std::string> incoming;
      for (auto& s : report.snapshots)
        if (s.copied) incoming.push_back(s.id);
      BKP_ASSIGN(wal, engine::copy_wal(*ctx.repo, *replica, incoming, false));
      return report;
    }();
    if (!copied) {
      failed = true;
      ctx.out.warn("replica '" + shown + "' not updated: " + copied.error().message);
    } else if (!ctx.out.json()) {
      ctx.out.info(
          "replica '" + shown + "': " + std::to_string(copied->copied()) + " snapshot(s) copied" +
          (wal.copied.empty() ? "" : ", " + std::to_string(wal.copied.size()) + " WAL file(s)"));
    }
    if (ctx.out.json()) {
      nlohmann::json j{{"location", shown}, {"ok", bool(copied)}};
      if (copied) {
        j["copied"] = copied->copied();
        j["skipped"] = copied->skipped();
        j["forgotten"] = copied->forgotten();
        j["wal_copied"] = wal.copied.size();
      } else {
        j["error"] = copied.error().message;
      }
      ctx.out.emit("replica", j);
    }
  }
  if (failed && code == 0) {
    ctx.out.warn("the backup is complete, but not every replica has it");
    return util::exit_partial;
  }
  return code;
}

void push_wal_to_replicas(Context& ctx, const std::filesystem::path& path) {
  for (auto& location : replica_locations(ctx)) {
    auto pushed = [&]() -> util::Result<engine::WalPushReport> {
      BKP_ASSIGN(auto r, open_repository_at(ctx, location, "replica"));
      ctx.other_repos.push_back(std::move(r));
      return engine::wal_push(*ctx.other_repos.back(), path);
    }();
    if (!pushed) {
      ctx.out.warn("WAL file '" + path.filename().string() + "' not sent to replica '" +
                   config::redact_url(location) + "': " + pushed.error().message +
                   " (the next backup copies it there)");
    }
  }
}

std::vector<std::string> check_replicas(Context& ctx) {
  std::vector<std::string> problems;
  auto locations = replica_locations(ctx);
  if (locations.empty()) {
    problems.push_back("no replicas configured (set 'replicas' in bkp.toml or BKP_REPLICAS)");
    return problems;
  }
  for (auto& location : locations) {
    std::string shown = config::redact_url(location);
    auto report = [&]() -> util::Result<engine::ReplicaReport> {
      BKP_ASSIGN(auto* replica, open_replica(ctx, location));
      return engine::compare_replica(*ctx.repo, *replica);
    }();
    nlohmann::json j{{"location", shown}};
    if (!report) {
      problems.push_back("replica '" + shown + "': " + report.error().message);
      j["ok"] = false;
      j["error"] = report.error().message;
    } else {
      const std::string named = "replica '" + shown + "'";
      for (auto& id : report->missing) problems.push_back(named + " lacks snapshot " + id);
      for (auto& d : report->differences) problems.push_back(named + ": snapshot " + d);
      for (auto& id : report->extra) {
        std::string note = "note: " + named + " has snapshot ";
        note += id;
        note += ", which the primary does not";
        ctx.out.detail(note);
      }
      j["ok"] = report->ok();
      j["snapshots"] = report->snapshots;
      j["missing"] = report->missing;
      j["forgotten"] = report->forgotten;
      j["differences"] = report->differences;
      j["extra"] = report->extra;
    }
    if (ctx.out.json()) ctx.out.emit("replica_check", j);
  }
  return problems;
}

}  // namespace bkp::cli
