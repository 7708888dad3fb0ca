// bkp restore postgres SNAPSHOT: pg_restore of a logical backup into a
// database, or (with --target-dir) a physical backup laid down as a data
// directory for point-in-time recovery (cmd_restore_physical.cpp). A
// subcommand of restore, set up by setup_restore.
#include <CLI/CLI.hpp>

#include <chrono>

#include "command.hpp"
#include "engine/postgres_logical.hpp"
#include "engine/snapshots.hpp"
#include "pg_options.hpp"

namespace bkp::cli {

namespace {

struct PgRestoreArgs {
  std::string snapshot, database, from_database;
  bool create = false, globals_only = false;
  int jobs = 1;
  PgFlags pg;
  PgPhysicalArgs physical;
};

}  // namespace

RunFn setup_restore_postgres(CLI::App& pg) {
  auto a = std::make_shared<PgRestoreArgs>();
  pg.add_option("snapshot", a->snapshot,
                "snapshot id (prefix) or 'latest'; physical: also 'auto' or none (the newest "
                "base backup before the target)");
  pg.add_option("--database", a->database, "database to restore into (default: the original name)");
  pg.add_option("--from-database", a->from_database,
                "which database of an --all-databases snapshot to restore");
  pg.add_flag("--create", a->create, "create the target database first (createdb)");
  pg.add_flag("--globals-only", a->globals_only,
              "apply only globals.sql (roles, tablespaces) of an --all-databases snapshot");
  pg.add_option("--jobs", a->jobs,
                "parallel pg_restore jobs (above 1: via a private temporary file)")
      ->check(CLI::Range(1, 64));
  add_pg_flags(pg, a->pg);
  add_pg_physical_flags(pg, a->physical);
  return [a](Context& ctx) {
    auto& repo = *ctx.repo;
    if (auto st = repo.sync_catalog(); !st) return ctx.out.error(st.error());
    if (!a->physical.target_dir.empty()) {
      if (!a->database.empty() || !a->from_database.empty() || a->create || a->globals_only ||
          a->jobs != 1) {
        return ctx.out.error(util::make_error(
            util::ErrorKind::usage,
            "--database, --from-database, --create, --globals-only and --jobs are for logical "
            "backups; --target-dir restores a physical one"));
      }
      auto pgc = pg_connection(ctx, a->pg);
      if (!pgc) return ctx.out.error(pgc.error());
      return run_restore_physical(ctx, a->snapshot, a->physical, pgc->bin_dir);
    }
    if (a->physical.any()) {
      return ctx.out.error(
          util::make_error(util::ErrorKind::usage,
                           "--to-time, --to-lsn, --to-xid, --latest, --start, --port and "
                           "--tablespace-map need --target-dir (a physical restore)"));
    }
    if (a->snapshot.empty()) {
      return ctx.out.error(
          util::make_error(util::ErrorKind::usage, "say which snapshot to restore"));
    }
    auto snap = engine::resolve_snapshot(repo, a->snapshot);
    if (!snap) return ctx.out.error(snap.error());
    ctx.audit.snapshots.push_back(snap->id);
    auto conn = pg_connection(ctx, a->pg);
    if (!conn) return ctx.out.error(conn.error());
    if (a->globals_only) {
      if (auto st = engine::restore_postgres_globals(repo, *conn, *snap); !st)
        return ctx.out.error(st.error());
      if (ctx.out.json()) {
        ctx.out.emit("restore", {{"snapshot", snap->id}, {"globals", true}});
      } else {
        ctx.out.info("restored the globals of snapshot " + snap->id.substr(0, 8));
      }
      return 0;
    }
    engine::PgLogicalRestoreOptions opts;
    opts.target = a->database;
    opts.from_database = a->from_database;
    opts.create = a->create ? engine::PgCreate::yes : engine::PgCreate::no;
    opts.jobs = a->jobs;
    auto started = std::chrono::steady_clock::now();
    auto report = engine::restore_postgres_logical(repo, *conn, *snap, opts);
    if (!report) return ctx.out.error(report.error());
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
    if (ctx.out.json()) {
      ctx.out.emit("restore", {{"snapshot", snap->id},
                               {"source_database", report->source_database},
                               {"database", report->target_database},
                               {"file", report->file},
                               {"jobs", a->jobs},
                               {"seconds", took.count()}});
    } else {
      char secs[32];
      std::snprintf(secs, sizeof secs, "%.1fs", took.count());
      ctx.out.info("restored '" + report->source_database + "' from snapshot " +
                   snap->id.substr(0, 8) + " into database '" + report->target_database + "' in " +
                   secs);
    }
    return 0;
  };
}

}  // namespace bkp::cli
