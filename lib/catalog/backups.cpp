// The backups table: one row per snapshot, MISSION.md's columns.
#include <string>

#include "catalog/catalog.hpp"
#include "catalog/statement.hpp"
#include "util/time.hpp"

namespace bkp::catalog {

using util::ErrorKind;

namespace {

constexpr const char* kColumns =
    "id, backup_type, database_name, parent_backup_id, status, size_bytes, "
    "compressed_size_bytes, encryption_enabled, checksum, storage_location, storage_backend, "
    "created_at, completed_at, retention_until, metadata";

BackupRow read_backup(const Statement& stmt) {
  BackupRow row;
  row.id = stmt.column_text(0);
  row.backup_type = stmt.column_text(1);
  row.database_name = stmt.column_text(2);
  row.parent_backup_id = stmt.column_text(3);
  row.status = stmt.column_text(4);
  row.size_bytes = stmt.column_int(5);
  row.compressed_size_bytes = stmt.column_int(6);
  row.encryption_enabled = stmt.column_int(7) != 0;
  row.checksum = stmt.column_text(8);
  row.storage_location = stmt.column_text(9);
  row.storage_backend = stmt.column_text(10);
  row.created_at = stmt.column_text(11);
  row.completed_at = stmt.column_text(12);
  row.retention_until = stmt.column_text(13);
  row.metadata = stmt.column_text(14);
  return row;
}

// The smallest string greater than every string starting with `prefix`, or
// empty when there is none: turns a prefix match into an index range.
std::string prefix_upper_bound(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xff) prefix.pop_back();
  if (!prefix.empty()) prefix.back() = static_cast<char>(prefix.back() + 1);
  return prefix;
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

util::Status Catalog::upsert_backup(const BackupRow& row) {
  const std::string action = "storing backup '" + row.id + "' in the catalog";
  if (row.id.empty()) return util::fail(ErrorKind::usage, action + ": the id is empty");
  // ?16 says whether the caller gave created_at: an update without one keeps
  // the stored time, an insert without one takes the current time.
  BKP_ASSIGN(Statement stmt,
             Statement::prepare(db_, std::string("INSERT INTO backups(") + kColumns +
                                         ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
                                         "?11, ?12, ?13, ?14, ?15) "
                                         "ON CONFLICT(id) DO UPDATE SET "
                                         "backup_type = excluded.backup_type, "
                                         "database_name = excluded.database_name, "
                                         "parent_backup_id = excluded.parent_backup_id, "
                                         "status = excluded.status, "
                                         "size_bytes = excluded.size_bytes, "
                                         "compressed_size_bytes = excluded.compressed_size_bytes, "
                                         "encryption_enabled = excluded.encryption_enabled, "
                                         "checksum = excluded.checksum, "
                                         "storage_location = excluded.storage_location, "
                                         "storage_backend = excluded.storage_backend, "
                                         "created_at = CASE WHEN ?16 THEN excluded.created_at "
                                         "ELSE backups.created_at END, "
                                         "completed_at = excluded.completed_at, "
                                         "retention_until = excluded.retention_until, "
                                         "metadata = excluded.metadata"));
  const std::string now = row.created_at.empty() ? util::now_rfc3339() : std::string();
  stmt.bind_text(1, row.id);
  stmt.bind_text(2, row.backup_type);
  stmt.bind_text(3, row.database_name);
  stmt.bind_text_or_null(4, row.parent_backup_id);
  stmt.bind_text(5, row.status);
  stmt.bind_int(6, row.size_bytes);
  stmt.bind_int(7, row.compressed_size_bytes);
  stmt.bind_int(8, row.encryption_enabled ? 1 : 0);
  stmt.bind_text_or_null(9, row.checksum);
  stmt.bind_text_or_null(10, row.storage_location);
  stmt.bind_text_or_null(11, row.storage_backend);
  stmt.bind_text(12, row.created_at.empty() ? now : row.created_at);
  stmt.bind_text_or_null(13, row.completed_at);
  stmt.bind_text_or_null(14, row.retention_until);
  stmt.bind_text(15, row.metadata.empty() ? std::string_view("{}") : row.metadata);
  stmt.bind_int(16, row.created_at.empty() ? 0 : 1);
  return stmt.run(action);
}

util::Result<std::optional<BackupRow>> Catalog::get_backup(std::string_view id) {
  BKP_ASSIGN(Statement stmt, Statement::prepare(db_, std::string("SELECT ") + kColumns +
                                                         " FROM backups WHERE id = ?1"));
  stmt.bind_text(1, id);
  BKP_ASSIGN(bool row, stmt.step("reading backup '" + std::string(id) + "' from the catalog"));
  if (!row) return std::optional<BackupRow>{};
  return std::optional<BackupRow>{read_backup(stmt)};
}

util::Result<std::vector<BackupRow>> Catalog::list_backups(const BackupFilter& filter) {
  std::string sql = std::string("SELECT ") + kColumns + " FROM backups WHERE 1";
  const std::string lower = lowercase(filter.id_prefix);
  const std::string upper = prefix_upper_bound(lower);
  if (!filter.source.empty()) sql += " AND database_name = ?1";
  if (!filter.status.empty()) sql += " AND status = ?2";
  if (!lower.empty()) sql += " AND id >= ?3";
  if (!upper.empty()) sql += " AND id < ?4";
  // id breaks ties so that two backups started in the same microsecond
  // still list in a stable order.
  sql += " ORDER BY created_at DESC, id DESC";
  BKP_ASSIGN(Statement stmt, Statement::prepare(db_, sql));
  if (!filter.source.empty()) stmt.bind_text(1, filter.source);
  if (!filter.status.empty()) stmt.bind_text(2, filter.status);
  if (!lower.empty()) stmt.bind_text(3, lower);
  if (!upper.empty()) stmt.bind_text(4, upper);
  std::vector<BackupRow> rows;
  for (;;) {
    BKP_ASSIGN(bool row, stmt.step("listing backups in the catalog"));
    if (!row) return rows;
    rows.push_back(read_backup(stmt));
  }
}

util::Status Catalog::delete_backup(std::string_view id) {
  const std::string action = "deleting backup '" + std::string(id) + "' from the catalog";
  BKP_ASSIGN(Statement stmt, Statement::prepare(db_, "DELETE FROM backups WHERE id = ?1"));
  stmt.bind_text(1, id);
  BKP_TRY(stmt.run(action));
  if (sqlite3_changes(db_) == 0)
    return util::fail(ErrorKind::not_found, action + ": no such backup");
  return {};
}

}  // namespace bkp::catalog
