#include "engine/postgres_pitr.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>

#include "engine/postgres_physical.hpp"
#include "engine/recovery_job.hpp"
#include "engine/restore.hpp"
#include "engine/snapshots.hpp"
#include "engine/tree_walk.hpp"
#include "util/fs.hpp"
#include "util/time.hpp"

namespace bkp::engine {

namespace fs = std::filesystem;
using util::ErrorKind;
using util::fail;

namespace {

// PostgreSQL prints times as "2026-11-27 00:30:01.123456+00"; RFC 3339
// wants a 'T' and "+00:00".
std::optional<std::int64_t> parse_target_time(std::string text) {
  if (text.size() > 10 && text[10] == ' ') text[10] = 'T';
  if (text.size() >= 3) {
    auto sign = text[text.size() - 3];
    if ((sign == '+' || sign == '-') && text.find('T') != std::string::npos && text.size() - 3 > 10)
      text += ":00";
  }
  return util::parse_rfc3339(text);
}

// recovery_target_time refuses ISO 8601's 'T' and 'Z': what bkp can read
// goes to the server as "YYYY-MM-DD HH:MM:SS.ffffff+00", the rest as given.
std::string pg_time(const std::string& text) {
  auto ns = parse_target_time(text);
  if (!ns) return text;
  auto utc = util::format_rfc3339(*ns);  // "2026-11-26T13:45:58.123456Z"
  if (utc.size() < 20 || utc.back() != 'Z') return text;
  utc[10] = ' ';
  utc.pop_back();
  return utc + "+00";
}

// A value for postgresql.auto.conf: single-quoted, quotes doubled.
std::string conf_quote(const std::string& v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

util::Status write_file(const fs::path& path, const std::string& text, mode_t mode,
                        std::ios::openmode how = std::ios::trunc) {
  {
    std::ofstream out(path, std::ios::binary | how);
    out << text;
    out.flush();
    if (!out) return fail(ErrorKind::io, "writing '" + path.string() + "' failed");
  }
  if (::chmod(path.c_str(), mode) != 0) return fail(util::errno_error("chmod", path, errno));
  return {};
}

util::Status check_target_dir(const fs::path& dir) {
  std::error_code ec;
  auto st = fs::symlink_status(dir, ec);
  if (ec || !fs::exists(st)) return {};
  if (!fs::is_directory(st))
    return fail(ErrorKind::exists, "'" + dir.string() + "' exists and is not a directory");
  if (!fs::is_empty(dir, ec) || ec) {
    return fail(ErrorKind::exists, "'" + dir.string() +
                                       "' is not empty; a data directory is restored only into "
                                       "an empty or new directory");
  }
  return {};
}

// The settings that make the server recover from the archive and stop
// where asked; appended last, so they win over the backed-up ones.
std::string recovery_settings(const repo::Snapshot& snap, const PgPhysicalRestoreOptions& o) {
  std::string conf = "\n# Written by bkp restore postgres from snapshot " + snap.id + " on " +
                     util::now_rfc3339() + ".\n";
  conf += "restore_command = " + conf_quote(o.restore_command) + "\n";
  // A restored copy must not write into the original's archive.
  conf += "archive_mode = off\n";
  conf += "recovery_target_timeline = 'latest'\n";
  switch (o.target.kind) {
    case PgTargetKind::latest:
      break;
    case PgTargetKind::time:
      conf += "recovery_target_time = " + conf_quote(pg_time(o.target.value)) + "\n";
      break;
    case PgTargetKind::lsn:
      conf += "recovery_target_lsn = " + conf_quote(o.target.value) + "\n";
      break;
    case PgTargetKind::xid:
      conf += "recovery_target_xid = " + conf_quote(o.target.value) + "\n";
      break;
  }
  if (o.target.kind != PgTargetKind::latest) conf += "recovery_target_action = 'promote'\n";
  if (!o.port.empty()) conf += "port = " + o.port + "\n";
  return conf;
}

// Lays the base backup down and writes what recovery needs.
util::Status lay_down(repo::Repository& repo, const repo::Snapshot& snap,
                      const PgPhysicalRestoreOptions& options, const fs::path& target,
                      const std::vector<PgTablespacePlace>& tablespaces, RecoveryJob& job,
                      PgPhysicalRestoreReport& report, const PgRecoveryProgressFn& progress) {
  const std::string data_dir = snap.extra.value("data_directory", "");
  const std::string label = snap.extra.value("backup_label", "");
  auto started = std::chrono::steady_clock::now();
  RestoreOptions ro;
  ro.target = target;
  ro.root = data_dir;
  ro.overwrite = OverwritePolicy::never;
  ro.job = &job;
  job.step("restore", "base backup " + snap.id + " to " + target.string());
  const std::uint64_t total = snap.stats.value("total_bytes", std::uint64_t{0});
  BKP_ASSIGN(auto laid, restore_to_directory(repo, snap, ro, [&](const RestoreProgress& p) {
               if (progress) progress(PgRecoveryProgress{"restore", p.bytes, total, 0, {}, 0});
             }));
  report.files = laid.files;
  report.bytes = laid.bytes;
  report.warnings = laid.warnings;

  // The data directory's own owner and mode (restore gives them only below).
  BKP_ASSIGN(auto root, find_node(repo, snap.tree, data_dir));
  if (::geteuid() == 0 && ::chown(target.c_str(), root.meta.uid, root.meta.gid) != 0)
    return fail(util::errno_error("chown", target, errno));
  if (::chmod(target.c_str(), 0700) != 0) return fail(util::errno_error("chmod", target, errno));

  // pg_wal is left out of a base backup (or was a symlink elsewhere): an
  // empty directory, filled by restore_command.
  auto wal = target / "pg_wal";
  std::error_code ec;
  if (fs::is_symlink(fs::symlink_status(wal, ec))) fs::remove(wal, ec);
  for (auto dir : {wal, wal / "archive_status"}) {
    if (!fs::exists(dir, ec)) BKP_TRY(util::make_dirs(dir, 0700));
    if (::geteuid() == 0 && ::chown(dir.c_str(), root.meta.uid, root.meta.gid) != 0)
      return fail(util::errno_error("chown", dir, errno));
  }
  auto owned = [&](const fs::path& p, const std::string& text,
                   std::ios::openmode how) -> util::Status {
    BKP_TRY(write_file(p, text, 0600, how));
    if (::geteuid() == 0 && ::chown(p.c_str(), root.meta.uid, root.meta.gid) != 0)
      return fail(util::errno_error("chown", p, errno));
    return util::Status{};
  };
  BKP_TRY(owned(target / "backup_label", label, std::ios::trunc));
  // Recovery re-creates pg_tblspc/<oid> from tablespace_map: it must name
  // the new places, never the original's directories.
  if (!tablespaces.empty()) {
    BKP_ASSIGN(auto map, restore_tablespaces(repo, snap, target, tablespaces, job, root.meta.uid,
                                             root.meta.gid));
    BKP_TRY(owned(target / "tablespace_map", map, std::ios::trunc));
  } else if (auto map = snap.extra.value("tablespace_map", ""); !map.empty()) {
    BKP_TRY(owned(target / "tablespace_map", map, std::ios::trunc));
  }
  BKP_TRY(owned(target / "postgresql.auto.conf", recovery_settings(snap, options), std::ios::app));
  BKP_TRY(owned(target / "recovery.signal", "", std::ios::trunc));
  BKP_TRY(util::fsync_dir(target));
  job.step("recovery settings", "backup_label, recovery.signal, postgresql.auto.conf");
  report.seconds_restore =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  return {};
}

}  // namespace

bool is_pg_physical(const repo::Snapshot& snap) {
  return snap.source_kind == "postgres" && snap.extra.value("mode", "") == "physical";
}

util::Result<repo::Snapshot> pick_base_backup(repo::Repository& repo, const std::string& spec,
                                              const PgRecoveryTarget& target) {
  if (!spec.empty() && spec != "auto") {
    BKP_ASSIGN(auto snap, resolve_snapshot(repo, spec));
    if (!is_pg_physical(snap)) {
      return fail(ErrorKind::usage, "snapshot " + snap.id.substr(0, 8) +
                                        " is not a physical PostgreSQL backup (its source is '" +
                                        snap.source_name + "')");
    }
    return snap;
  }
  std::optional<std::int64_t> before_time;
  std::optional<std::uint64_t> before_lsn;
  if (target.kind == PgTargetKind::time) {
    before_time = parse_target_time(target.value);
    if (!before_time) {
      return fail(ErrorKind::usage,
                  "cannot read the time '" + target.value +
                      "' to choose a base backup (use YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM)); "
                      "or name the snapshot");
    }
  } else if (target.kind == PgTargetKind::lsn) {
    before_lsn = parse_lsn(target.value);
    if (!before_lsn) return fail(ErrorKind::usage, "'" + target.value + "' is not an LSN (X/Y)");
  }
  BKP_ASSIGN(auto snaps, list_snapshots(repo));  // newest first
  for (auto& s : snaps) {
    if (!is_pg_physical(s)) continue;
    if (before_time) {
      auto stop = util::parse_rfc3339(s.extra.value("stop_time", ""));
      if (!stop || *stop > *before_time) continue;
    }
    if (before_lsn) {
      auto stop = parse_lsn(s.extra.value("stop_lsn", ""));
      if (!stop || *stop > *before_lsn) continue;
    }
    return s;
  }
  return fail(ErrorKind::not_found,
              before_time || before_lsn
                  ? "no physical PostgreSQL backup was complete before " + target.value
                  : std::string("no physical PostgreSQL backup in the repository"));
}

util::Result<PgPhysicalRestoreReport> restore_postgres_physical(
    repo::Repository& repo, const repo::Snapshot& snap, const PgPhysicalRestoreOptions& options,
    const PgRecoveryProgressFn& progress) {
  if (!is_pg_physical(snap))
    return fail(ErrorKind::usage, "snapshot " + snap.id.substr(0, 8) + " is not physical");
  const std::string data_dir = snap.extra.value("data_directory", "");
  const std::string label = snap.extra.value("backup_label", "");
  if (data_dir.empty() || label.empty()) {
    return fail(ErrorKind::verification,
                "snapshot " + snap.id.substr(0, 8) + " lacks its data directory or backup_label");
  }
  if (options.restore_command.empty()) return fail(ErrorKind::usage, "no restore_command to write");
  if (options.target_dir.empty()) return fail(ErrorKind::usage, "no --target-dir");
  auto target = fs::absolute(options.target_dir).lexically_normal();
  BKP_TRY(check_target_dir(target));
  BKP_ASSIGN(auto tablespaces, place_tablespaces(snap, target, options.tablespace_map));

  PgPhysicalRestoreReport report;
  report.tablespaces = tablespaces;
  // One recovery job for the whole: lay-down, recovery settings, and with
  // --start the server's recovery, with the target as its point in time.
  RecoveryJob job(repo.catalog(), snap.id, target.string());
  job.set_point_in_time(options.target.kind == PgTargetKind::latest ? "latest"
                                                                    : options.target.value);
  BKP_TRY(job.start());
  auto outcome = lay_down(repo, snap, options, target, tablespaces, job, report, progress);
  if (outcome && options.start == PgStart::yes) {
    job.step("recovery", "starting the server and waiting until it is promoted");
    outcome = start_and_wait_for_recovery(target, options, report, progress);
    if (outcome)
      job.step("promoted", std::to_string(report.wal_files) + " WAL files restored in " +
                               std::to_string(report.seconds_recovery) + " s");
  }
  job.step(outcome ? "done" : "failed", outcome ? "" : outcome.error().message);
  BKP_TRY(job.finish(outcome));
  if (!outcome) return outcome.propagate();
  report.job_id = job.id();
  return report;
}

}  // namespace bkp::engine
