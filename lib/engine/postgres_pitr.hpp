// Restoring a physical PostgreSQL backup, to a point in time: choose the
// base backup, lay it down with its backup_label, an empty pg_wal and the
// recovery settings (restore_command through `bkp wal-fetch`,
// recovery_target_*, recovery.signal, archive_mode = off), and optionally
// start the server and wait until recovery has reached the target and the
// server is promoted.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/postgres_tablespaces.hpp"
#include "repo/repository.hpp"

namespace bkp::engine {

enum class PgTargetKind { latest, time, lsn, xid };

struct PgRecoveryTarget {
  PgTargetKind kind = PgTargetKind::latest;
  std::string value;  // the time, LSN or transaction id as given
};

// Whether a snapshot is a physical PostgreSQL base backup.
bool is_pg_physical(const repo::Snapshot& snap);

// The base backup to restore: `spec` "latest" or an id prefix names one (it
// must be physical); empty or "auto" takes the newest physical backup that
// was consistent (pg_backup_stop returned) before the target time or LSN,
// the newest of all for --latest and --to-xid.
util::Result<repo::Snapshot> pick_base_backup(repo::Repository& repo, const std::string& spec,
                                              const PgRecoveryTarget& target);

enum class PgStart { no, yes };

struct PgPhysicalRestoreOptions {
  std::filesystem::path target_dir;  // must not exist, or be empty
  PgRecoveryTarget target;
  // The shell command PostgreSQL runs to fetch WAL (%f and %p in it).
  std::string restore_command;
  PgStart start = PgStart::no;
  std::string port;            // written into postgresql.auto.conf when not empty
  std::string bin_dir;         // pg_ctl's directory; empty: by PG_VERSION, then $PATH
  int timeout_seconds = 7200;  // for recovery to finish with --start
  // --tablespace-map OLD=NEW; a tablespace not named goes to
  // <target_dir>/bkp_tablespaces/<oid>.
  std::vector<PgTablespaceMapping> tablespace_map;
};

struct PgRecoveryProgress {
  std::string phase;  // "restore", "start", "recovery", "done"
  std::uint64_t bytes = 0, total_bytes = 0;
  std::uint64_t wal_files = 0;  // restored from the archive so far
  std::string last_wal;
  double seconds = 0;
};
using PgRecoveryProgressFn = std::function<void(const PgRecoveryProgress&)>;

struct PgPhysicalRestoreReport {
  std::string job_id;
  std::uint64_t files = 0, bytes = 0;
  double seconds_restore = 0, seconds_recovery = 0;
  bool started = false;
  std::uint64_t wal_files = 0;
  std::string log_file;                        // the server's log with --start
  std::vector<PgTablespacePlace> tablespaces;  // where each tablespace went
  std::vector<std::string> warnings;
};

util::Result<PgPhysicalRestoreReport> restore_postgres_physical(
    repo::Repository& repo, const repo::Snapshot& snap, const PgPhysicalRestoreOptions& options,
    const PgRecoveryProgressFn& progress = {});

// Starts the server on `data_dir` as the directory's owner with pg_ctl and
// waits until recovery has ended and the server is in production; counts
// the WAL files restored from its log. Used by restore --start.
util::Status start_and_wait_for_recovery(const std::filesystem::path& data_dir,
                                         const PgPhysicalRestoreOptions& options,
                                         PgPhysicalRestoreReport& report,
                                         const PgRecoveryProgressFn& progress);

}  // namespace bkp::engine
