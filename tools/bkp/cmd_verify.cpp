#include <CLI/CLI.hpp>

#include "command.hpp"
#include "engine/snapshots.hpp"
#include "engine/verify.hpp"
#include "replicas.hpp"

namespace bkp::cli {

RunFn setup_verify(CLI::App& sub) {
  auto specs = std::make_shared<std::vector<std::string>>();
  auto read_data = std::make_shared<bool>(false);
  auto subset = std::make_shared<std::string>();
  sub.add_option("snapshots", *specs, "snapshots to check (default: all)");
  auto* rd = sub.add_flag("--read-data", *read_data, "also read and check every stored byte");
  sub.add_option("--read-data-subset", *subset, "read only a part: N% or n/m")->excludes(rd);
  auto replicas = std::make_shared<bool>(false);
  sub.add_flag("--replicas", *replicas,
               "also check that every replica has every snapshot, with the same content");
  return [specs, read_data, subset, replicas](Context& ctx) {
    auto& repo = *ctx.repo;
    engine::VerifyOptions opts;
    if (*read_data) opts.read_data = engine::ReadData::all;
    if (!subset->empty()) {
      if (auto st = engine::parse_subset(*subset, opts); !st) return ctx.out.error(st.error());
    }
    if (auto st = repo.sync_catalog(); !st) return ctx.out.error(st.error());
    for (auto& s : *specs) {
      auto snap = engine::resolve_snapshot(repo, s);
      if (!snap) return ctx.out.error(snap.error());
      opts.snapshot_ids.push_back(snap->id);
      ctx.audit.snapshots.push_back(snap->id);
    }
    Progress bar(ctx.out, "verify");
    auto report = engine::verify_repository(
        repo, opts, [&](std::uint64_t bytes, std::uint64_t packs) { bar.update(bytes, packs); });
    bar.finish();
    if (!report) return ctx.out.error(report.error());
    if (*replicas) {
      for (auto& p : check_replicas(ctx)) report->problems.push_back(std::move(p));
    }
    for (auto& n : report->notes) ctx.out.detail("note: " + n);
    if (ctx.out.json()) {
      ctx.out.emit("verify", {{"ok", report->ok()},
                              {"problems", report->problems},
                              {"damaged_snapshots", report->damaged_snapshots},
                              {"notes", report->notes},
                              {"snapshots", report->snapshots},
                              {"trees", report->trees},
                              {"blobs_referenced", report->blobs_referenced},
                              {"packs", report->packs},
                              {"packs_read", report->packs_read},
                              {"blobs_read", report->blobs_read},
                              {"bytes_read", report->bytes_read},
                              {"wal_segments", report->wal_segments}});
    }
    if (!report->ok()) {
      for (auto& p : report->problems) std::fprintf(stderr, "bkp: damaged: %s\n", p.c_str());
      for (auto& s : report->damaged_snapshots)
        std::fprintf(stderr, "bkp: snapshot %s is affected\n", s.c_str());
      std::fprintf(stderr, "bkp: verification failed: %zu problem(s)\n", report->problems.size());
      return util::exit_code(util::ErrorKind::verification);
    }
    if (!ctx.out.json()) {
      std::string what = std::to_string(report->snapshots) + " snapshots, " +
                         std::to_string(report->trees) + " trees, " +
                         std::to_string(report->packs) + " packs";
      if (report->packs_read) {
        what += "; read " + std::to_string(report->packs_read) + " packs (" +
                human_bytes(report->bytes_read) + ")";
      }
      ctx.out.info("no problems found: " + what);
    }
    return 0;
  };
}

}  // namespace bkp::cli
