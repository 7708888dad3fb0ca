// Physical PostgreSQL backups taken on the database host: a non-exclusive
// base backup (pg_backup_start / pg_backup_stop in one libpq session) around
// a read of the data directory as a file tree, so deduplication and the
// incremental rules of file backups apply. The backup_label and
// tablespace_map that pg_backup_stop returns, the LSNs, the timeline and the
// WAL segments needed for consistency go into the snapshot's extra; the
// snapshot is written only once the stop segment is in the repository's WAL
// archive (wal-push), since without it the backup cannot be restored.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/backup.hpp"
#include "sources/postgres/connection.hpp"

namespace bkp::engine {

// How the data directory is read: on this host, as files, between
// pg_backup_start and pg_backup_stop (local); as the tar stream of the
// replication protocol's BASE_BACKUP (replication), from any host; or local
// when the server's data directory is readable here, else replication.
enum class PgVia { automatic, local, replication };
std::optional<PgVia> parse_pg_via(std::string_view text);  // "auto", "local", "replication"
std::string_view pg_via_name(PgVia via);

struct PgPhysicalBackupOptions {
  BackupType type = BackupType::incremental;
  PgVia via = PgVia::automatic;
  std::string data_dir;  // empty: SHOW data_directory
  std::vector<std::string> tags;
  int wal_timeout_seconds = 120;                  // waiting for the stop segment to be archived
  std::shared_ptr<util::RateLimiter> read_limit;  // --limit-rate on the data directory
};

// What the snapshot's source is called: "postgres-physical:<host>:<data dir>".
std::string pg_physical_source(const std::string& data_dir);

util::Result<BackupReport> backup_postgres_physical(repo::Repository& repo,
                                                    const sources::postgres::Connection& conn,
                                                    const PgPhysicalBackupOptions& options,
                                                    const ProgressFn& progress = {});

// The replication path (postgres_replication.cpp): BASE_BACKUP over a
// replication=database connection, the role needing the REPLICATION
// attribute (and pg_hba.conf a "replication" line for it). Same snapshot
// layout, facts and WAL rule as the local path. options.data_dir, when
// given, names the server's data directory in the snapshot; else the
// server's data_directory setting, else "/pgdata-<system identifier>".
util::Result<BackupReport> backup_postgres_replication(repo::Repository& repo,
                                                       const sources::postgres::Connection& conn,
                                                       const PgPhysicalBackupOptions& options,
                                                       const ProgressFn& progress = {});

// Shared by both paths: records in `snap.extra` what the end of a base
// backup returned (its stop LSN, backup_label and tablespace_map) with
// the timeline and the WAL segments recovery needs; returns the last one.
util::Result<std::string> record_backup_stop(repo::Snapshot& snap, const std::string& stop_lsn,
                                             const std::string& label_file,
                                             const std::string& tablespace_map,
                                             std::uint64_t segment_size);
// Waits until the WAL segment `segment` is in the repository's WAL archive.
util::Status wait_for_archived(repo::Repository& repo, const std::string& segment, int timeout_s);

// The paths of a data directory a base backup leaves out, as pgBackRest
// does: WAL (restored from the archive), the server's pid and option files,
// replication slots, temporary and transient state. Globs for the file
// walker (sources/files/exclude.hpp), anchored at `data_dir`.
std::vector<std::string> pg_physical_excludes(const std::string& data_dir);

// WAL segment arithmetic: "TTTTTTTTXXXXXXXXYYYYYYYY".
struct WalSegment {
  std::uint32_t timeline = 0;
  std::uint64_t segno = 0;
};
std::optional<WalSegment> parse_wal_segment(std::string_view name, std::uint64_t segment_size);
std::string wal_segment_name(const WalSegment& s, std::uint64_t segment_size);
// "16/B374D848" -> the LSN; nullopt when malformed.
std::optional<std::uint64_t> parse_lsn(std::string_view text);

}  // namespace bkp::engine
