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

struct PgPhysicalBackupOptions {
  BackupType type = BackupType::incremental;
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
