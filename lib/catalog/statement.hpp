// Internal to lib/catalog: a prepared SQLite statement owned RAII-style, and
// the conversion of SQLite result codes into util::Error. Not installed, not
// included by catalog.hpp.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "util/bytes.hpp"
#include "util/result.hpp"

namespace bkp::catalog {

// SQLITE_BUSY/SQLITE_LOCKED (after the busy timeout) -> ErrorKind::locked,
// anything else -> ErrorKind::io; the message is "<action>: <sqlite3_errmsg>".
util::Error sqlite_error(sqlite3* db, int rc, std::string_view action);

// Runs SQL without results (one or more statements).
util::Status exec(sqlite3* db, const char* sql, std::string_view action);

enum class Persistence { transient, cached };

class Statement {
 public:
  static util::Result<Statement> prepare(sqlite3* db, std::string_view sql,
                                         Persistence persistence = Persistence::transient);
  Statement(Statement&& other) noexcept : stmt_(other.stmt_), bind_rc_(other.bind_rc_) {
    other.stmt_ = nullptr;
  }
  Statement& operator=(Statement&& other) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() { sqlite3_finalize(stmt_); }

  // Binding never fails at the call site: the first error is kept and
  // reported by the next step(), so call sites stay flat. Parameters are
  // 1-based. Text and blobs are bound SQLITE_STATIC: the caller keeps them
  // alive until the statement is stepped and reset.
  void bind_int(int index, std::int64_t value);
  void bind_text(int index, std::string_view value);
  // Empty text is stored as NULL (optional columns).
  void bind_text_or_null(int index, std::string_view value);
  void bind_blob(int index, util::ByteView value);
  void bind_null(int index);

  // true: a row is available; false: the statement is done.
  util::Result<bool> step(std::string_view action);
  // Steps a statement that returns no rows.
  util::Status run(std::string_view action);
  // Makes the statement reusable (and ends its read transaction).
  void reset();

  std::int64_t column_int(int index) const { return sqlite3_column_int64(stmt_, index); }
  // NULL reads back as the empty string.
  std::string column_text(int index) const;
  util::ByteView column_blob(int index) const;
  bool column_is_null(int index) const { return sqlite3_column_type(stmt_, index) == SQLITE_NULL; }

 private:
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  void note_bind(int rc) {
    if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  }
  sqlite3_stmt* stmt_ = nullptr;
  int bind_rc_ = SQLITE_OK;
};

// Resets a (cached) statement when the scope ends, whatever the path out.
class ResetGuard {
 public:
  explicit ResetGuard(Statement& stmt) : stmt_(stmt) {}
  ~ResetGuard() { stmt_.reset(); }
  ResetGuard(const ResetGuard&) = delete;
  ResetGuard& operator=(const ResetGuard&) = delete;

 private:
  Statement& stmt_;
};

}  // namespace bkp::catalog
