// The recovery_jobs table: restore progress, for `bkp restore` and reports.
#include <sodium.h>

#include <array>
#include <string>

#include "catalog/catalog.hpp"
#include "catalog/statement.hpp"
#include "util/bytes.hpp"

namespace bkp::catalog {

using util::ErrorKind;

namespace {

constexpr const char* kColumns =
    "id, backup_id, target_database, point_in_time, status, progress, started_at, "
    "completed_at, steps, error_message";

util::Result<std::string> random_uuid_v4() {
  if (sodium_init() < 0) {
    return util::fail(ErrorKind::generic, "creating a recovery job id: libsodium failed to start");
  }
  std::array<std::uint8_t, 16> b{};
  randombytes_buf(b.data(), b.size());
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  const std::string hex = util::to_hex(b);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

// Parameters ?1..?10 in kColumns order; empty optional text becomes NULL.
void bind_job(Statement& stmt, const RecoveryJobRow& row) {
  stmt.bind_text(1, row.id);
  stmt.bind_text_or_null(2, row.backup_id);
  stmt.bind_text_or_null(3, row.target_database);
  stmt.bind_text_or_null(4, row.point_in_time);
  stmt.bind_text(5, row.status);
  stmt.bind_int(6, row.progress);
  stmt.bind_text_or_null(7, row.started_at);
  stmt.bind_text_or_null(8, row.completed_at);
  stmt.bind_text(9, row.steps.empty() ? std::string_view("[]") : row.steps);
  stmt.bind_text_or_null(10, row.error_message);
}

RecoveryJobRow read_job(const Statement& stmt) {
  RecoveryJobRow row;
  row.id = stmt.column_text(0);
  row.backup_id = stmt.column_text(1);
  row.target_database = stmt.column_text(2);
  row.point_in_time = stmt.column_text(3);
  row.status = stmt.column_text(4);
  row.progress = static_cast<int>(stmt.column_int(5));
  row.started_at = stmt.column_text(6);
  row.completed_at = stmt.column_text(7);
  row.steps = stmt.column_text(8);
  row.error_message = stmt.column_text(9);
  return row;
}

}  // namespace

util::Result<std::string> Catalog::insert_recovery_job(const RecoveryJobRow& row) {
  RecoveryJobRow job = row;
  if (job.id.empty()) {
    BKP_ASSIGN(job.id, random_uuid_v4());
  }
  BKP_ASSIGN(Statement stmt,
             Statement::prepare(db_, std::string("INSERT INTO recovery_jobs(") + kColumns +
                                         ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                                         "?7, ?8, ?9, ?10)"));
  bind_job(stmt, job);
  BKP_TRY(stmt.run("recording recovery job '" + job.id + "' in the catalog"));
  return job.id;
}

util::Status Catalog::update_recovery_job(const RecoveryJobRow& row) {
  const std::string action = "updating recovery job '" + row.id + "' in the catalog";
  BKP_ASSIGN(Statement stmt,
             Statement::prepare(db_,
                                "UPDATE recovery_jobs SET backup_id = ?2, target_database = ?3, "
                                "point_in_time = ?4, status = ?5, progress = ?6, "
                                "started_at = ?7, completed_at = ?8, steps = ?9, "
                                "error_message = ?10 WHERE id = ?1"));
  bind_job(stmt, row);
  BKP_TRY(stmt.run(action));
  if (sqlite3_changes(db_) == 0) return util::fail(ErrorKind::not_found, action + ": no such job");
  return {};
}

util::Result<std::optional<RecoveryJobRow>> Catalog::get_recovery_job(std::string_view id) {
  BKP_ASSIGN(Statement stmt, Statement::prepare(db_, std::string("SELECT ") + kColumns +
                                                         " FROM recovery_jobs WHERE id = ?1"));
  stmt.bind_text(1, id);
  BKP_ASSIGN(bool row,
             stmt.step("reading recovery job '" + std::string(id) + "' from the catalog"));
  if (!row) return std::optional<RecoveryJobRow>{};
  return std::optional<RecoveryJobRow>{read_job(stmt)};
}

util::Result<std::vector<RecoveryJobRow>> Catalog::list_recovery_jobs() {
  // rowid is the insertion order: pending jobs have no started_at to sort by.
  BKP_ASSIGN(Statement stmt,
             Statement::prepare(db_, std::string("SELECT ") + kColumns +
                                         " FROM recovery_jobs ORDER BY rowid DESC"));
  std::vector<RecoveryJobRow> rows;
  for (;;) {
    BKP_ASSIGN(bool row, stmt.step("listing recovery jobs in the catalog"));
    if (!row) return rows;
    rows.push_back(read_job(stmt));
  }
}

}  // namespace bkp::catalog
