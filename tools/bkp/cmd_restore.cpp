#include <fcntl.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <chrono>

#include "command.hpp"
#include "engine/restore.hpp"
#include "engine/snapshots.hpp"
#include "util/fs.hpp"

namespace bkp::cli {

namespace {

struct RestoreArgs {
  std::string snapshot, target, overwrite = "if-changed", to_stdout, format, output;
  std::vector<std::string> includes, excludes;
  bool verify = false;
};

int to_tar(Context& ctx, repo::Repository& repo, const repo::Snapshot& snap, const RestoreArgs& a,
           const engine::RestoreFilter& filter) {
  int fd = STDOUT_FILENO;
  std::string tmp;
  if (a.output.empty() || a.output == "-") {
    if (::isatty(STDOUT_FILENO)) {
      return ctx.out.error(util::make_error(
          util::ErrorKind::usage, "refusing to write a tar archive to a terminal; use -o FILE"));
    }
  } else {
    // Write under a temporary name and rename at the end: a failed restore
    // never leaves a truncated archive that looks complete.
    tmp = a.output + ".partial";
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return ctx.out.error(util::errno_error("creating", tmp, errno));
  }
  auto report = engine::restore_to_tar(repo, snap, filter, fd);
  if (!tmp.empty()) {
    bool ok = report.ok() && ::fsync(fd) == 0;
    ::close(fd);
    if (ok && ::rename(tmp.c_str(), a.output.c_str()) != 0) ok = false;
    if (!ok) ::unlink(tmp.c_str());
  }
  if (!report) return ctx.out.error(report.error());
  for (auto& w : report->warnings) ctx.out.warn(w);
  if (ctx.out.json()) {
    ctx.out.emit("restore", {{"snapshot", snap.id},
                             {"format", "tar"},
                             {"output", a.output.empty() ? "-" : a.output},
                             {"files", report->files},
                             {"dirs", report->dirs},
                             {"bytes", report->bytes},
                             {"warnings", report->warnings},
                             {"partial", report->partial}});
  }
  // Like a directory restore: something was left out (a socket), so the
  // archive is not the whole selection.
  return report->partial ? util::exit_partial : 0;
}

}  // namespace

RunFn setup_restore(CLI::App& sub) {
  auto a = std::make_shared<RestoreArgs>();
  // Not required here: `restore postgres SNAPSHOT` takes its own.
  sub.add_option("snapshot", a->snapshot, "snapshot id (prefix) or 'latest'");
  sub.add_option("-t,--target", a->target, "directory to restore into");
  sub.add_option("--include", a->includes, "restore only paths matching (repeatable)");
  sub.add_option("--exclude", a->excludes, "leave out paths matching (repeatable)");
  sub.add_option("--overwrite", a->overwrite, "existing files: never, if-changed (default), always")
      ->check(CLI::IsMember({"never", "if-changed", "always"}));
  sub.add_flag("--verify", a->verify, "read every restored file back and compare");
  sub.add_option("--to-stdout", a->to_stdout, "write the content of one file to standard output");
  sub.add_option("--format", a->format, "tar: write a tar archive instead of files")
      ->check(CLI::IsMember({"tar"}));
  sub.add_option("-o,--output", a->output, "archive file for --format (default or '-': stdout)");
  auto* pg = sub.add_subcommand("postgres",
                                "restore a PostgreSQL backup: logical with pg_restore, physical "
                                "(--target-dir) to a point in time");
  auto run_pg = setup_restore_postgres(*pg);
  return [a, pg, run_pg](Context& ctx) {
    if (pg->parsed()) return run_pg(ctx);
    if (a->snapshot.empty()) {
      return ctx.out.error(
          util::make_error(util::ErrorKind::usage, "say which snapshot to restore"));
    }
    auto& repo = *ctx.repo;
    int modes = !a->target.empty() + !a->to_stdout.empty() + !a->format.empty();
    if (modes != 1) {
      return ctx.out.error(util::make_error(
          util::ErrorKind::usage,
          "say where to restore: one of --target DIR, --to-stdout PATH, --format tar"));
    }
    if (auto st = repo.sync_catalog(); !st) return ctx.out.error(st.error());
    auto snap = engine::resolve_snapshot(repo, a->snapshot);
    if (!snap) return ctx.out.error(snap.error());
    ctx.audit.snapshots.push_back(snap->id);
    engine::RestoreFilter filter{a->includes, a->excludes};

    if (!a->to_stdout.empty()) {
      auto st = engine::restore_to_stream(repo, *snap, a->to_stdout, STDOUT_FILENO);
      return st ? 0 : ctx.out.error(st.error());
    }
    if (!a->format.empty()) return to_tar(ctx, repo, *snap, *a, filter);

    engine::RestoreOptions opts;
    opts.target = a->target;
    opts.filter = filter;
    opts.overwrite = *engine::parse_overwrite(a->overwrite);
    opts.verify = a->verify ? engine::VerifyWrites::yes : engine::VerifyWrites::no;
    Progress bar(ctx.out, "restore", snap->stats.value("total_bytes", 0ull));
    auto started = std::chrono::steady_clock::now();
    auto report = engine::restore_to_directory(
        repo, *snap, opts, [&](const engine::RestoreProgress& p) { bar.update(p.bytes, p.items); });
    bar.finish();
    if (!report) return ctx.out.error(report.error());
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
    for (auto& w : report->warnings) ctx.out.warn(w);
    if (ctx.out.json()) {
      ctx.out.emit("restore", {{"snapshot", snap->id},
                               {"target", a->target},
                               {"job", report->job_id},
                               {"files", report->files},
                               {"dirs", report->dirs},
                               {"others", report->others},
                               {"bytes", report->bytes},
                               {"skipped_existing", report->skipped_existing},
                               {"warnings", report->warnings},
                               {"partial", report->partial},
                               {"seconds", took.count()}});
    } else {
      char secs[32];
      std::snprintf(secs, sizeof secs, "%.1fs", took.count());
      ctx.out.info("restored snapshot " + snap->id.substr(0, 8) + " to '" + a->target + "': " +
                   std::to_string(report->files) + " files, " + std::to_string(report->dirs) +
                   " dirs, " + human_bytes(report->bytes) + " in " + secs +
                   (report->skipped_existing ? ", " + std::to_string(report->skipped_existing) +
                                                   " existing left as they were"
                                             : ""));
    }
    return report->partial ? util::exit_partial : 0;
  };
}

}  // namespace bkp::cli
