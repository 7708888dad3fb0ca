#include "catalog/statement.hpp"

namespace bkp::catalog {

using util::ErrorKind;

util::Error sqlite_error(sqlite3* db, int rc, std::string_view action) {
  int primary = rc & 0xff;
  std::string message(action);
  message += ": ";
  // With no connection (open failed before a handle existed) the code is all
  // we have.
  message += db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
    const char* file = db ? sqlite3_db_filename(db, "main") : nullptr;
    if (file && *file) {
      message += " (another process held catalog '";
      message += file;
      message += "' longer than the busy timeout)";
    }
    return util::Error{ErrorKind::locked, std::move(message)};
  }
  return util::Error{ErrorKind::io, std::move(message)};
}

util::Status exec(sqlite3* db, const char* sql, std::string_view action) {
  if (!db) return util::fail(ErrorKind::generic, "using a closed catalog");
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return util::fail(sqlite_error(db, rc, action));
  return {};
}

util::Result<Statement> Statement::prepare(sqlite3* db, std::string_view sql,
                                           Persistence persistence) {
  if (!db) return util::fail(ErrorKind::generic, "using a closed catalog");
  sqlite3_stmt* stmt = nullptr;
  unsigned flags = persistence == Persistence::cached ? SQLITE_PREPARE_PERSISTENT : 0;
  int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), flags, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return util::fail(sqlite_error(db, rc, "preparing a catalog statement"));
  }
  return Statement(stmt);
}

void Statement::bind_int(int index, std::int64_t value) {
  note_bind(sqlite3_bind_int64(stmt_, index, value));
}

void Statement::bind_text(int index, std::string_view value) {
  // A view may have no terminating NUL; the explicit length covers that.
  // An empty view may have a null data(): bind "" so it stays TEXT, not NULL.
  const char* data = value.data() ? value.data() : "";
  note_bind(sqlite3_bind_text64(stmt_, index, data, value.size(), SQLITE_STATIC, SQLITE_UTF8));
}

void Statement::bind_text_or_null(int index, std::string_view value) {
  if (value.empty()) {
    bind_null(index);
  } else {
    bind_text(index, value);
  }
}

void Statement::bind_blob(int index, util::ByteView value) {
  note_bind(sqlite3_bind_blob64(stmt_, index, value.data(), value.size(), SQLITE_STATIC));
}

void Statement::bind_null(int index) { note_bind(sqlite3_bind_null(stmt_, index)); }

util::Result<bool> Statement::step(std::string_view action) {
  sqlite3* db = sqlite3_db_handle(stmt_);
  if (bind_rc_ != SQLITE_OK) {
    int rc = bind_rc_;
    bind_rc_ = SQLITE_OK;
    std::string message(action);
    message += ": binding a parameter: ";
    message += sqlite3_errstr(rc);
    return util::fail(ErrorKind::io, std::move(message));
  }
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return util::fail(sqlite_error(db, rc, action));
}

util::Status Statement::run(std::string_view action) {
  BKP_ASSIGN(bool row, step(action));
  (void)row;  // a statement with RETURNING could yield rows; none of ours do
  return {};
}

void Statement::reset() {
  // The error of a failed step was already reported by step(); reset()
  // repeating it is noise.
  sqlite3_reset(stmt_);
  bind_rc_ = SQLITE_OK;
}

std::string Statement::column_text(int index) const {
  const unsigned char* text = sqlite3_column_text(stmt_, index);
  if (!text) return {};
  int size = sqlite3_column_bytes(stmt_, index);
  return std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(size));
}

util::ByteView Statement::column_blob(int index) const {
  const void* data = sqlite3_column_blob(stmt_, index);
  int size = sqlite3_column_bytes(stmt_, index);
  if (!data || size <= 0) return {};
  return {static_cast<const std::uint8_t*>(data), static_cast<std::size_t>(size)};
}

}  // namespace bkp::catalog
