// bkp restore postgres [SNAPSHOT] --target-dir DIR [--to-time T | --to-lsn L
// | --to-xid X | --latest] [--start [--port P]]: a physical base backup laid
// down for point-in-time recovery, the server optionally started and
// followed until it is promoted.
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <filesystem>

#include "command.hpp"
#include "engine/postgres_pitr.hpp"
#include "pg_options.hpp"

namespace bkp::cli {

namespace fs = std::filesystem;

namespace {

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

std::string absolute(const std::string& path) {
  std::error_code ec;
  auto abs = fs::absolute(path, ec);
  return ec ? path : abs.lexically_normal().string();
}

// `bkp wal-fetch %f %p` as the server will run it: this binary, the same
// configuration file, the repository and how to open it, all as paths; a
// passphrase never goes on this line. Warns when the server cannot get at
// the key without a prompt.
std::string restore_command(const Context& ctx) {
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  std::string exe = n > 0 ? std::string(self, std::size_t(n)) : std::string("bkp");
  std::string cmd = shell_quote(exe);
  if (auto& file = ctx.config.file()) cmd += " --config " + shell_quote(absolute(file->string()));
  auto repo = ctx.repository();
  if (!repo.empty())
    cmd += " --repo " + shell_quote(repo.find("://") == std::string::npos ? absolute(repo) : repo);
  bool keyed = false;
  for (auto [key, flag] :
       {std::pair{"key_file", "--key-file"}, std::pair{"password_file", "--password-file"}}) {
    if (auto v = ctx.config.get(key); v && !v->empty()) {
      cmd += std::string(" ") + flag + " " + shell_quote(absolute(*v));
      keyed = true;
      break;
    }
  }
  if (!keyed) {
    for (auto [key, flag] : {std::pair{"key_command", "--key-command"},
                             std::pair{"password_command", "--password-command"}}) {
      if (auto v = ctx.config.get(key); v && !v->empty()) {
        cmd += std::string(" ") + flag + " " + shell_quote(*v);
        keyed = true;
        break;
      }
    }
  }
  if (!keyed) {
    ctx.out.warn(
        "no key_file, password_file or key_command is configured: the server's restore_command "
        "(bkp wal-fetch) will not be able to open the repository; set one in the configuration");
  }
  return cmd + " wal-fetch %f %p";
}

}  // namespace

void add_pg_physical_flags(CLI::App& app, PgPhysicalArgs& a) {
  const char* grp = "Physical restore (point-in-time recovery)";
  app.add_option("--target-dir", a.target_dir,
                 "lay a physical backup down as a data directory here (new or empty)")
      ->group(grp);
  auto* t = app.add_option("--to-time", a.to_time, "recover up to this time (recovery_target_time)")
                ->group(grp);
  auto* l = app.add_option("--to-lsn", a.to_lsn, "recover up to this LSN (recovery_target_lsn)")
                ->group(grp);
  auto* x = app.add_option("--to-xid", a.to_xid,
                           "recover up to this transaction id (recovery_target_xid)")
                ->group(grp);
  auto* latest =
      app.add_flag("--latest", a.latest, "recover to the end of the archived WAL (the default)")
          ->group(grp);
  t->excludes(l, x, latest);
  l->excludes(x, latest);
  x->excludes(latest);
  app.add_flag("--start", a.start,
               "start the server, wait until recovery reaches the target and it is promoted")
      ->group(grp);
  app.add_option("--port", a.port, "port for the restored server (postgresql.auto.conf)")
      ->check(CLI::Range(1, 65535))
      ->group(grp);
  app.add_option("--tablespace-map", a.tablespace_map,
                 "OLD=NEW: restore the tablespace at directory (or named) OLD into NEW "
                 "(repeatable; default: TARGET-DIR/bkp_tablespaces/OID)")
      ->group(grp);
}

int run_restore_physical(Context& ctx, const std::string& snapshot, const PgPhysicalArgs& a,
                         const std::string& bin_dir) {
  auto& repo = *ctx.repo;
  engine::PgPhysicalRestoreOptions opts;
  opts.target_dir = a.target_dir;
  if (!a.to_time.empty()) opts.target = {engine::PgTargetKind::time, a.to_time};
  if (!a.to_lsn.empty()) opts.target = {engine::PgTargetKind::lsn, a.to_lsn};
  if (!a.to_xid.empty()) opts.target = {engine::PgTargetKind::xid, a.to_xid};
  auto snap = engine::pick_base_backup(repo, snapshot, opts.target);
  if (!snap) return ctx.out.error(snap.error());
  opts.restore_command = restore_command(ctx);
  opts.start = a.start ? engine::PgStart::yes : engine::PgStart::no;
  opts.port = a.port;
  opts.bin_dir = bin_dir;
  for (auto& m : a.tablespace_map) {
    auto mapping = engine::parse_tablespace_mapping(m);
    if (!mapping) return ctx.out.error(mapping.error());
    opts.tablespace_map.push_back(*mapping);
  }

  auto started = std::chrono::steady_clock::now();
  Progress bar(ctx.out, "restore", snap->stats.value("total_bytes", 0ull));
  bool bar_done = false;
  auto report = engine::restore_postgres_physical(
      repo, *snap, opts, [&](const engine::PgRecoveryProgress& p) {
        if (p.phase == "restore") {
          bar.update(p.bytes);
          return;
        }
        if (!bar_done) bar.finish(), bar_done = true;
        char secs[32];
        std::snprintf(secs, sizeof secs, "%.1f", p.seconds);
        if (ctx.out.json()) {
          ctx.out.emit("progress", {{"phase", p.phase},
                                    {"wal_files", p.wal_files},
                                    {"last_wal", p.last_wal},
                                    {"seconds", p.seconds}});
        } else if (p.phase == "recovery") {
          ctx.out.info("recovery: " + std::to_string(p.wal_files) + " WAL files restored" +
                       (p.last_wal.empty() ? "" : " (last " + p.last_wal + ")") + ", " + secs +
                       " s");
        }
      });
  if (!bar_done) bar.finish();
  if (!report) return ctx.out.error(report.error());
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  for (auto& w : report->warnings) ctx.out.warn(w);
  const char* kinds[] = {"latest", "time", "lsn", "xid"};
  auto tablespaces = nlohmann::json::array();
  for (auto& t : report->tablespaces) {
    tablespaces.push_back({{"oid", t.space.oid},
                           {"name", t.space.name},
                           {"location", t.space.location},
                           {"restored_to", t.dir.string()}});
  }
  const auto& target = opts.target;
  if (ctx.out.json()) {
    ctx.out.emit("restore", {{"snapshot", snap->id},
                             {"mode", "physical"},
                             {"target_dir", a.target_dir},
                             {"job", report->job_id},
                             {"recovery_target", kinds[int(target.kind)]},
                             {"recovery_target_value", target.value},
                             {"files", report->files},
                             {"bytes", report->bytes},
                             {"started", report->started},
                             {"wal_files", report->wal_files},
                             {"tablespaces", tablespaces},
                             {"log", report->log_file},
                             {"seconds_restore", report->seconds_restore},
                             {"seconds_recovery", report->seconds_recovery},
                             {"seconds", took.count()}});
    return 0;
  }
  char secs[64];
  std::snprintf(secs, sizeof secs, "%.1fs", report->seconds_restore);
  ctx.out.info("restored base backup " + snap->id.substr(0, 8) + " (" + snap->time + ") to '" +
               a.target_dir + "': " + std::to_string(report->files) + " files, " +
               human_bytes(report->bytes) + " in " + secs);
  for (auto& t : report->tablespaces)
    ctx.out.info("  tablespace " + t.space.name + " (" + t.space.location + ") to '" +
                 t.dir.string() + "'");
  if (report->started) {
    std::snprintf(secs, sizeof secs, "%.1fs (%.1fs in all)", report->seconds_recovery,
                  took.count());
    ctx.out.info("recovered " +
                 (target.kind == engine::PgTargetKind::latest ? std::string("to the end of the WAL")
                                                              : "to " + target.value) +
                 " and promoted: " + std::to_string(report->wal_files) + " WAL files in " + secs +
                 "; the server is running (log: " + report->log_file + ")");
  } else {
    ctx.out.info("start it with pg_ctl -D " + a.target_dir +
                 " start; it recovers from the archive and promotes at the target");
  }
  return 0;
}

}  // namespace bkp::cli
