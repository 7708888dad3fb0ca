// The audit_log table. The rows are only a fast view: what makes them
// trustworthy is the MAC chain lib/repo/audit_log.cpp computes and checks.
#include <string>

#include "catalog/catalog.hpp"
#include "catalog/statement.hpp"

namespace bkp::catalog {

namespace {

constexpr const char* kColumns =
    "id, chain, seq, time, user, uid, host, command, args, result, snapshots, keys, keyed, "
    "prev_mac, mac, mirrored";

AuditRow read_row(const Statement& stmt) {
  AuditRow r;
  r.id = stmt.column_int(0);
  r.chain = stmt.column_text(1);
  if (!stmt.column_is_null(2)) r.seq = stmt.column_int(2);
  r.time = stmt.column_text(3);
  r.user = stmt.column_text(4);
  r.uid = stmt.column_int(5);
  r.host = stmt.column_text(6);
  r.command = stmt.column_text(7);
  r.args = stmt.column_text(8);
  r.result = static_cast<int>(stmt.column_int(9));
  r.snapshots = stmt.column_text(10);
  r.keys = stmt.column_text(11);
  r.keyed = stmt.column_int(12) != 0;
  r.prev_mac = stmt.column_text(13);
  r.mac = stmt.column_text(14);
  r.mirrored = stmt.column_int(15) != 0;
  return r;
}

}  // namespace

util::Result<std::int64_t> Catalog::insert_audit(const AuditRow& row) {
  BKP_ASSIGN(Statement stmt,
             Statement::prepare(db_,
                                "INSERT INTO audit_log(chain, seq, time, user, uid, host, "
                                "command, args, result, snapshots, keys, keyed, prev_mac, mac, "
                                "mirrored) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
                                "?12, ?13, ?14, ?15)"));
  stmt.bind_text(1, row.chain);
  if (row.seq) {
    stmt.bind_int(2, *row.seq);
  } else {
    stmt.bind_null(2);
  }
  stmt.bind_text(3, row.time);
  stmt.bind_text(4, row.user);
  stmt.bind_int(5, row.uid);
  stmt.bind_text(6, row.host);
  stmt.bind_text(7, row.command);
  stmt.bind_text(8, row.args);
  stmt.bind_int(9, row.result);
  stmt.bind_text(10, row.snapshots);
  stmt.bind_text(11, row.keys);
  stmt.bind_int(12, row.keyed ? 1 : 0);
  stmt.bind_text_or_null(13, row.prev_mac);
  stmt.bind_text_or_null(14, row.mac);
  stmt.bind_int(15, row.mirrored ? 1 : 0);
  BKP_TRY(stmt.run("recording an audit entry in the catalog"));
  return static_cast<std::int64_t>(sqlite3_last_insert_rowid(db_));
}

util::Result<std::vector<AuditRow>> Catalog::list_audit(const AuditFilter& filter,
                                                        AuditOrder order) {
  std::string sql = std::string("SELECT ") + kColumns +
                    " FROM audit_log WHERE (?1 = '' OR time >= ?1) AND (?2 = '' OR chain = ?2)"
                    " AND (?3 = 0 OR seq IS NULL) ORDER BY ";
  sql += order == AuditOrder::time ? "time, id" : "chain, seq IS NULL, seq, id";
  BKP_ASSIGN(Statement stmt, Statement::prepare(db_, sql));
  stmt.bind_text(1, filter.since);
  stmt.bind_text(2, filter.chain);
  stmt.bind_int(3, filter.pending_only ? 1 : 0);
  std::vector<AuditRow> rows;
  for (;;) {
    BKP_ASSIGN(bool row, stmt.step("reading the audit log from the catalog"));
    if (!row) return rows;
    rows.push_back(read_row(stmt));
  }
}

util::Result<std::optional<AuditRow>> Catalog::audit_head(std::string_view chain) {
  BKP_ASSIGN(Statement stmt, Statement::prepare(db_, std::string("SELECT ") + kColumns +
                                                         " FROM audit_log WHERE chain = ?1 AND "
                                                         "seq IS NOT NULL ORDER BY seq DESC "
                                                         "LIMIT 1"));
  stmt.bind_text(1, chain);
  BKP_ASSIGN(bool row, stmt.step("reading the head of an audit chain from the catalog"));
  if (!row) return std::optional<AuditRow>{};
  return std::optional<AuditRow>{read_row(stmt)};
}

util::Status Catalog::seal_audit(std::int64_t id, std::int64_t seq, std::string_view prev_mac,
                                 std::string_view mac) {
  BKP_ASSIGN(Statement stmt,
             Statement::prepare(db_,
                                "UPDATE audit_log SET seq = ?2, prev_mac = ?3, mac = ?4 "
                                "WHERE id = ?1 AND seq IS NULL"));
  stmt.bind_int(1, id);
  stmt.bind_int(2, seq);
  stmt.bind_text(3, prev_mac);
  stmt.bind_text(4, mac);
  return stmt.run("sealing an audit entry in the catalog");
}

util::Status Catalog::set_audit_mirrored(std::int64_t id) {
  BKP_ASSIGN(Statement stmt,
             Statement::prepare(db_, "UPDATE audit_log SET mirrored = 1 WHERE id = ?1"));
  stmt.bind_int(1, id);
  return stmt.run("marking an audit entry as mirrored in the catalog");
}

}  // namespace bkp::catalog
