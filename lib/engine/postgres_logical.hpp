// Logical PostgreSQL backups: pg_dump in custom format streamed into the
// repository, and pg_restore fed from it. One snapshot per run; with
// --all-databases it holds globals.sql (pg_dumpall --globals-only) and one
// <database>.dump per database, so one run is one consistent-in-time set.
#pragma once

#include <string>
#include <vector>

#include "engine/backup.hpp"
#include "sources/postgres/connection.hpp"

namespace bkp::engine {

enum class PgScope { one_database, all_databases };

struct PgLogicalBackupOptions {
  PgScope scope = PgScope::one_database;
  std::string database;  // one_database; empty: the connection's database
  std::vector<std::string> tags;
};

// The snapshot's source is "postgres:<database>" (all databases:
// "postgres:(all)"); its extra holds mode, server_version and the dumps.
util::Result<BackupReport> backup_postgres_logical(repo::Repository& repo,
                                                   const sources::postgres::Connection& conn,
                                                   const PgLogicalBackupOptions& options,
                                                   const ProgressFn& progress = {});

// The file name a database's dump is stored under: '/' and '%' escaped.
std::string pg_dump_file_name(const std::string& database);

enum class PgCreate { no, yes };

struct PgLogicalRestoreOptions {
  std::string target;         // database to restore into; empty: the original name
  std::string from_database;  // which dump of an all-databases snapshot
  PgCreate create = PgCreate::no;
  int jobs = 1;  // above 1 the dump goes to a private temporary file first
};

struct PgRestoreReport {
  std::string source_database, target_database, file;
};

util::Result<PgRestoreReport> restore_postgres_logical(repo::Repository& repo,
                                                       const sources::postgres::Connection& conn,
                                                       const repo::Snapshot& snap,
                                                       const PgLogicalRestoreOptions& options);

// Applies globals.sql (roles, tablespaces) of an --all-databases snapshot
// with psql, connected to the connection's database (default postgres).
// Statements that fail (a role that exists) are reported by psql and
// skipped.
util::Status restore_postgres_globals(repo::Repository& repo,
                                      const sources::postgres::Connection& conn,
                                      const repo::Snapshot& snap);

}  // namespace bkp::engine
