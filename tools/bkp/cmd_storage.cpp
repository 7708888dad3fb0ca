// bkp storage usage: bytes and objects per object type in the repository's
// storage (and in each configured replica's), from a listing, and backup
// growth per day, week or month from the catalog (lib/engine/storage_usage).
#include <CLI/CLI.hpp>

#include <cstdio>

#include "command.hpp"
#include "config/config.hpp"
#include "engine/storage_usage.hpp"
#include "replicas.hpp"
#include "repository_access.hpp"

namespace bkp::cli {

namespace {

nlohmann::json usage_json(const engine::StorageUsage& u) {
  nlohmann::json types = nlohmann::json::object();
  for (auto& [t, c] : u.by_type) types[t] = {{"objects", c.objects}, {"bytes", c.bytes}};
  return {{"types", types}, {"objects", u.total.objects}, {"bytes", u.total.bytes}};
}

void print_usage(const Context& ctx, const std::string& role, const std::string& where,
                 const engine::StorageUsage& u) {
  ctx.out.data(role + " " + where);
  char line[160];
  std::snprintf(line, sizeof line, "  %-10s %10s %12s", "type", "objects", "bytes");
  ctx.out.data(line);
  auto row = [&](const std::string& t, const engine::UsageCount& c) {
    std::snprintf(line, sizeof line, "  %-10s %10llu %12s", t.c_str(),
                  static_cast<unsigned long long>(c.objects), human_bytes(c.bytes).c_str());
    ctx.out.data(line);
  };
  for (auto& [t, c] : u.by_type) row(t, c);
  row("total", u.total);
}

int run_usage(Context& ctx, const std::string& by) {
  auto period = engine::parse_period(by);
  if (!period) return ctx.out.error(period.error());
  auto& repo = *ctx.repo;
  if (auto st = repo.sync_catalog(); !st) return ctx.out.error(st.error());

  // The primary and every replica: a listing needs the storage, not a key.
  struct Place {
    std::string role, where, kind;
    util::Result<engine::StorageUsage> usage;
  };
  std::vector<Place> places;
  places.push_back({"repository", repo.backend().describe(), std::string(repo.backend().kind()),
                    engine::storage_usage(repo.backend())});
  for (auto& loc : replica_locations(ctx)) {
    auto backend = open_storage(ctx, loc);
    if (!backend) {
      places.push_back({"replica", config::redact_url(loc), "", util::fail(backend.error())});
      continue;
    }
    places.push_back({"replica", (*backend)->describe(), std::string((*backend)->kind()),
                      engine::storage_usage(**backend)});
  }
  bool failed = false;
  for (auto& p : places) {
    if (!p.usage) {
      failed = true;
      ctx.out.warn(p.role + " '" + p.where + "': " + p.usage.error().message);
      if (ctx.out.json()) {
        ctx.out.emit("storage_usage",
                     {{"role", p.role}, {"location", p.where}, {"error", p.usage.error().message}});
      }
      continue;
    }
    if (ctx.out.json()) {
      auto j = usage_json(*p.usage);
      j["role"] = p.role;
      j["location"] = p.where;
      j["backend"] = p.kind;
      ctx.out.emit("storage_usage", j);
    } else {
      print_usage(ctx, p.role, p.where + " (" + p.kind + ")", *p.usage);
    }
  }

  auto rows = repo.catalog().list_backups();
  if (!rows) return ctx.out.error(rows.error());
  auto growth = engine::backup_growth(*rows, *period);
  if (!ctx.out.json()) ctx.out.data("growth per " + by + " (from the catalog's backups)");
  for (auto& g : growth) {
    if (ctx.out.json()) {
      ctx.out.emit("storage_growth", {{"period", g.period},
                                      {"by", by},
                                      {"backups", g.backups},
                                      {"source_bytes", g.source_bytes},
                                      {"stored_bytes", g.stored_bytes},
                                      {"stored_total", g.stored_total}});
      continue;
    }
    char line[200];
    std::snprintf(line, sizeof line, "  %-10s %4llu backups  %12s read  %12s stored  %12s in all",
                  g.period.c_str(), static_cast<unsigned long long>(g.backups),
                  human_bytes(g.source_bytes).c_str(), human_bytes(g.stored_bytes).c_str(),
                  human_bytes(g.stored_total).c_str());
    ctx.out.data(line);
  }
  return failed ? util::exit_partial : 0;
}

}  // namespace

RunFn setup_storage(CLI::App& sub) {
  sub.require_subcommand(1);
  auto by = std::make_shared<std::string>("day");
  auto* usage =
      sub.add_subcommand("usage", "bytes and objects per object type, and backup growth over time");
  usage->add_option("--by", *by, "growth per day (default), week or month");
  return [by](Context& ctx) { return run_usage(ctx, *by); };
}

}  // namespace bkp::cli
