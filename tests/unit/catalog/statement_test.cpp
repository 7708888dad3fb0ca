// The module's internal statement wrapper, tested directly for the error
// paths the public API cannot reach.
#include "catalog/statement.hpp"

#include "helpers.hpp"

using bkp::catalog::Statement;
using bkp::util::ErrorKind;

TEST_CASE("statement errors carry SQLite's message", "[catalog]") {
  auto cat = bkp::test::memory_catalog();
  auto bad = Statement::prepare(cat.handle(), "SELECT nonsense FROM nowhere");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().kind == ErrorKind::io);
  CHECK(bad.error().message == "preparing a catalog statement: no such table: nowhere");

  auto stmt = Statement::prepare(cat.handle(), "SELECT ?1");
  REQUIRE(stmt.ok());
  stmt->bind_int(5, 1);  // no such parameter
  auto row = stmt->step("selecting");
  REQUIRE_FALSE(row.ok());
  CHECK(row.error().message == "selecting: binding a parameter: column index out of range");
  // The bind error is reported once; the statement then works.
  stmt->reset();
  stmt->bind_text(1, "");
  REQUIRE(stmt->step("selecting").value());
  CHECK_FALSE(stmt->column_is_null(0));
  CHECK(stmt->column_text(0).empty());
  CHECK(stmt->column_blob(0).empty());

  auto exec_status = bkp::catalog::exec(cat.handle(), "NOT SQL", "running garbage");
  REQUIRE_FALSE(exec_status.ok());
  CHECK(exec_status.error().message.rfind("running garbage: ", 0) == 0);
  CHECK(bkp::catalog::sqlite_error(nullptr, SQLITE_BUSY, "x").kind == ErrorKind::locked);
  CHECK(bkp::catalog::sqlite_error(nullptr, SQLITE_IOERR, "x").message == "x: disk I/O error");
}

TEST_CASE("a catalog whose tables were damaged reports errors", "[catalog]") {
  auto cat = bkp::test::memory_catalog();
  bkp::test::raw_exec(cat, "DROP TABLE meta; DROP TABLE backups; DROP TABLE recovery_jobs");
  auto meta = cat.get_meta("k");
  REQUIRE_FALSE(meta.ok());
  CHECK(meta.error().message == "preparing a catalog statement: no such table: meta");
  CHECK_FALSE(cat.set_meta("k", "v").ok());
  CHECK_FALSE(cat.list_backups().ok());
  CHECK_FALSE(cat.get_backup("x").ok());
  CHECK_FALSE(cat.upsert_backup({.id = "x"}).ok());
  CHECK_FALSE(cat.delete_backup("x").ok());
  CHECK_FALSE(cat.insert_recovery_job({}).ok());
  CHECK_FALSE(cat.update_recovery_job({}).ok());
  CHECK_FALSE(cat.get_recovery_job("x").ok());
  CHECK_FALSE(cat.list_recovery_jobs().ok());
}
