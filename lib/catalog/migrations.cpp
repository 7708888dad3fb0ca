#include "catalog/migrations.hpp"

#include <array>
#include <string>

#include "catalog/catalog.hpp"
#include "catalog/statement.hpp"

namespace bkp::catalog {

namespace {

// Version 1: the tables of MISSION.md's schema in SQLite types, plus the
// chunk index. Times are RFC 3339 UTC text, which sorts chronologically.
constexpr const char* kMigration1 = R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

-- The chunk index: where each blob lives. 32-byte keyed-hash ids, so no
-- rowid: the id is the B-tree key and a lookup is one descent.
CREATE TABLE blobs (
  id         BLOB PRIMARY KEY,
  type       INTEGER NOT NULL,
  pack       BLOB NOT NULL,
  offset     INTEGER,
  length     INTEGER,
  raw_length INTEGER
) WITHOUT ROWID;
CREATE INDEX blobs_pack ON blobs(pack);

-- Index segments of the repository already merged into blobs.
CREATE TABLE index_segments (
  name TEXT PRIMARY KEY
);

-- parent_backup_id has no foreign key: a rebuild inserts rows in any
-- order, and forgetting a parent must not cascade.
CREATE TABLE backups (
  id                    TEXT PRIMARY KEY,
  backup_type           TEXT NOT NULL
                        CHECK (backup_type IN ('full', 'incremental', 'differential')),
  database_name         TEXT NOT NULL,
  parent_backup_id      TEXT,
  status                TEXT NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'running', 'completed', 'failed', 'partial')),
  size_bytes            INTEGER,
  compressed_size_bytes INTEGER,
  encryption_enabled    INTEGER NOT NULL DEFAULT 1,
  checksum              TEXT,
  storage_location      TEXT,
  storage_backend       TEXT,
  created_at            TEXT NOT NULL,
  completed_at          TEXT,
  retention_until       TEXT,
  metadata              TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata))
);
CREATE INDEX backups_source_created ON backups(database_name, created_at);
CREATE INDEX backups_created ON backups(created_at);

-- backup_id has no foreign key: job history outlives forgotten backups.
CREATE TABLE recovery_jobs (
  id              TEXT PRIMARY KEY,
  backup_id       TEXT,
  target_database TEXT,
  point_in_time   TEXT,
  status          TEXT NOT NULL DEFAULT 'pending',
  progress        INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
  started_at      TEXT,
  completed_at    TEXT,
  steps           TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(steps)),
  error_message   TEXT
);
)sql";

// The audit log (see doc/compliance.md and lib/repo/audit_log.hpp): one row
// per command that opened the repository, hash-chained per catalog (chain).
// seq and mac are NULL for an entry recorded without the key (a wrong
// passphrase); the next command that holds a key seals it into the chain.
constexpr const char* kMigration2 = R"sql(
CREATE TABLE audit_log (
  id        INTEGER PRIMARY KEY AUTOINCREMENT,
  chain     TEXT NOT NULL,
  seq       INTEGER,
  time      TEXT NOT NULL,
  user      TEXT NOT NULL,
  uid       INTEGER NOT NULL,
  host      TEXT NOT NULL,
  command   TEXT NOT NULL,
  args      TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(args)),
  result    INTEGER NOT NULL,
  snapshots TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(snapshots)),
  keys      TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(keys)),
  keyed     INTEGER NOT NULL DEFAULT 1,
  prev_mac  TEXT,
  mac       TEXT,
  mirrored  INTEGER NOT NULL DEFAULT 0,
  UNIQUE (chain, seq)
);
CREATE INDEX audit_log_time ON audit_log(time);
)sql";

constexpr std::array<const char*, 2> kMigrations = {kMigration1, kMigration2};

util::Result<int> read_user_version(sqlite3* db) {
  BKP_ASSIGN(Statement stmt, Statement::prepare(db, "PRAGMA user_version"));
  BKP_ASSIGN(bool row, stmt.step("reading the catalog schema version"));
  return row ? static_cast<int>(stmt.column_int(0)) : 0;
}

}  // namespace

std::span<const char* const> migrations() { return kMigrations; }

util::Status Catalog::migrate() {
  const int known = static_cast<int>(kMigrations.size());
  for (;;) {
    bool done = false;
    // The version is read again inside each write transaction: another
    // process opening the same new catalog may have migrated it meanwhile.
    util::Status status = transaction([&]() -> util::Status {
      BKP_ASSIGN(int version, read_user_version(db_));
      if (version > known) {
        return util::fail(util::ErrorKind::usage,
                          "catalog '" + std::string(sqlite3_db_filename(db_, "main")) +
                              "' has schema version " + std::to_string(version) +
                              ", newer than this bkp knows (" + std::to_string(known) +
                              "): upgrade bkp");
      }
      if (version == known) {
        done = true;
        return {};
      }
      const std::string step =
          "migrating the catalog to schema version " + std::to_string(version + 1);
      BKP_TRY(exec(db_, kMigrations[static_cast<std::size_t>(version)], step));
      // Both pragmas write the database header inside this transaction, so
      // the schema and its version commit together.
      std::string pragmas = "PRAGMA user_version = " + std::to_string(version + 1) + ";";
      pragmas += "PRAGMA application_id = " + std::to_string(kApplicationId) + ";";
      return exec(db_, pragmas.c_str(), step);
    });
    if (!status.ok()) return status;
    if (done) return {};
  }
}

}  // namespace bkp::catalog
