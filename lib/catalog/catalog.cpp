// Opening, configuring and closing a catalog connection; transactions; meta.
#include "catalog/catalog.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include "catalog/migrations.hpp"
#include "catalog/statement.hpp"
#include "util/fs.hpp"

namespace bkp::catalog {

using util::ErrorKind;

namespace {

// Several bkp processes may share one catalog (a wal-push during a backup):
// writers wait for each other this long before giving up with "locked".
constexpr int kBusyTimeoutMs = 10'000;

enum class Journal { wal, memory };

util::Result<std::int64_t> pragma_int(sqlite3* db, const char* sql, std::string_view action) {
  BKP_ASSIGN(Statement stmt, Statement::prepare(db, sql));
  BKP_ASSIGN(bool row, stmt.step(action));
  return row ? stmt.column_int(0) : 0;
}

util::Error not_a_catalog(const std::string& shown, std::string_view why) {
  return util::Error{ErrorKind::usage,
                     "catalog '" + shown + "' is not a bkp catalog: " + std::string(why)};
}

// Checks that the file is ours (or empty) before anything writes to it. One
// statement, so one snapshot: another process may be creating the schema and
// setting the application id at this very moment.
util::Status check_identity(sqlite3* db, const std::string& shown) {
  const std::string action = "reading catalog '" + shown + "'";
  auto stmt = Statement::prepare(db,
                                 "SELECT (SELECT application_id FROM pragma_application_id()), "
                                 "(SELECT count(*) FROM sqlite_schema)");
  util::Result<bool> row = stmt.ok() ? stmt->step(action) : stmt.propagate();
  if (!row.ok()) {
    // Garbage where a database was expected: a wrong path, most likely.
    if ((sqlite3_extended_errcode(db) & 0xff) == SQLITE_NOTADB) {
      return util::fail(not_a_catalog(shown, sqlite3_errmsg(db)));
    }
    return row.propagate();
  }
  const std::int64_t app_id = stmt->column_int(0);
  const std::int64_t tables = stmt->column_int(1);
  if (app_id != kApplicationId && (app_id != 0 || tables != 0)) {
    return util::fail(not_a_catalog(shown, "an SQLite database of another program"));
  }
  return {};
}

util::Status configure(sqlite3* db, const std::string& shown, Journal journal) {
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  BKP_TRY(check_identity(db, shown));
  if (journal == Journal::wal) {
    // When several connections switch a new file to WAL at once, SQLite
    // answers SQLITE_BUSY to some of them at once, without calling the busy
    // handler (waiting could deadlock): retry for as long as a busy wait.
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(kBusyTimeoutMs);
    for (;;) {
      BKP_ASSIGN(Statement stmt, Statement::prepare(db, "PRAGMA journal_mode = WAL"));
      auto row = stmt.step("switching catalog '" + shown + "' to WAL mode");
      if (!row && row.error().kind == ErrorKind::locked &&
          std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
      BKP_TRY(row);
      if (!*row || stmt.column_text(0) != "wal") {
        return util::fail(ErrorKind::io, "switching catalog '" + shown + "' to WAL mode: refused");
      }
      break;
    }
  }
  // NORMAL, not FULL: in WAL mode a crash may lose the last commits but never
  // corrupts, and the catalog can be rebuilt from the storage anyway.
  // The page cache is bounded at 32 MiB, and there is no mmap: mapped pages
  // count in the process's resident memory, and a backup's lookups touch
  // pages all over a large chunk index (with 1 GiB of mmap, a backup over a
  // catalog of 10M chunks peaked at 1.1 GiB RSS; see doc/catalog.md).
  return exec(db,
              "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; "
              "PRAGMA cache_size = -32768; PRAGMA mmap_size = 0;",
              "configuring catalog '" + shown + "'");
}

// Rolls a transaction (or savepoint) back unless dismissed: covers the error
// paths of transaction() and a throwing fn alike.
class RollbackGuard {
 public:
  RollbackGuard(sqlite3* db, bool nested) : db_(db), nested_(nested) {}
  ~RollbackGuard() {
    // An I/O error inside may have rolled everything back already; then
    // there is nothing left to undo and the statements would only fail.
    if (armed_ && sqlite3_get_autocommit(db_) == 0) {
      sqlite3_exec(db_, nested_ ? "ROLLBACK TO bkp_nested; RELEASE bkp_nested" : "ROLLBACK",
                   nullptr, nullptr, nullptr);
    }
  }
  RollbackGuard(const RollbackGuard&) = delete;
  RollbackGuard& operator=(const RollbackGuard&) = delete;
  void dismiss() { armed_ = false; }

 private:
  sqlite3* db_;
  bool nested_;
  bool armed_ = true;
};

}  // namespace

Catalog::Catalog(sqlite3* db) : db_(db) {}

Catalog::Catalog(Catalog&& other) noexcept
    : db_(other.db_),
      find_blob_stmt_(std::move(other.find_blob_stmt_)),
      add_blob_stmt_(std::move(other.add_blob_stmt_)) {
  other.db_ = nullptr;
}

Catalog& Catalog::operator=(Catalog&& other) noexcept {
  if (this != &other) {
    close();
    db_ = other.db_;
    find_blob_stmt_ = std::move(other.find_blob_stmt_);
    add_blob_stmt_ = std::move(other.add_blob_stmt_);
    other.db_ = nullptr;
  }
  return *this;
}

Catalog::~Catalog() { close(); }

void Catalog::close() {
  // Statements first: sqlite3_close refuses a connection with live ones.
  find_blob_stmt_.reset();
  add_blob_stmt_.reset();
  if (db_) sqlite3_close(db_);
  db_ = nullptr;
}

util::Result<Catalog> Catalog::open(const std::filesystem::path& file) {
  const std::string shown = file.string();
  if (file.has_parent_path()) {
    BKP_TRY(util::make_dirs(file.parent_path(), 0700));
  }
  // Created here rather than by SQLite so the mode is 0600 whatever the
  // umask; SQLite gives the -wal and -shm files the database file's mode.
  int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return util::fail(util::errno_error("opening catalog", file, errno));
  ::close(fd);

  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  Catalog catalog(db);  // owns the handle even when opening failed
  if (rc != SQLITE_OK) return util::fail(sqlite_error(db, rc, "opening catalog '" + shown + "'"));
  BKP_TRY(configure(db, shown, Journal::wal));
  BKP_TRY(catalog.migrate());
  return catalog;
}

util::Result<Catalog> Catalog::open_memory() {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  Catalog catalog(db);
  if (rc != SQLITE_OK) return util::fail(sqlite_error(db, rc, "opening an in-memory catalog"));
  BKP_TRY(configure(db, ":memory:", Journal::memory));
  BKP_TRY(catalog.migrate());
  return catalog;
}

int Catalog::schema_version() const {
  auto version = pragma_int(db_, "PRAGMA user_version", "reading the catalog schema version");
  return version.ok() ? static_cast<int>(*version) : -1;
}

util::Status Catalog::transaction(const std::function<util::Status()>& fn) {
  const bool nested = db_ && sqlite3_get_autocommit(db_) == 0;
  // IMMEDIATE takes the write lock now, so a busy catalog shows up here
  // (after the busy timeout) and not as a failed COMMIT after the work.
  BKP_TRY(exec(db_, nested ? "SAVEPOINT bkp_nested" : "BEGIN IMMEDIATE",
               "starting a catalog transaction"));
  RollbackGuard guard(db_, nested);
  BKP_TRY(fn());
  BKP_TRY(exec(db_, nested ? "RELEASE bkp_nested" : "COMMIT", "committing a catalog transaction"));
  guard.dismiss();
  return {};
}

util::Result<Statement*> Catalog::cached(std::unique_ptr<Statement>& slot, std::string_view sql) {
  if (!slot) {
    BKP_ASSIGN(Statement stmt, Statement::prepare(db_, sql, Persistence::cached));
    slot = std::make_unique<Statement>(std::move(stmt));
  }
  return slot.get();
}

util::Status Catalog::set_meta(std::string_view key, std::string_view value) {
  BKP_ASSIGN(Statement stmt,
             Statement::prepare(db_,
                                "INSERT INTO meta(key, value) VALUES (?1, ?2) "
                                "ON CONFLICT(key) DO UPDATE SET value = excluded.value"));
  stmt.bind_text(1, key);
  stmt.bind_text(2, value);
  return stmt.run("storing '" + std::string(key) + "' in the catalog");
}

util::Result<std::optional<std::string>> Catalog::get_meta(std::string_view key) {
  BKP_ASSIGN(Statement stmt, Statement::prepare(db_, "SELECT value FROM meta WHERE key = ?1"));
  stmt.bind_text(1, key);
  BKP_ASSIGN(bool row, stmt.step("reading '" + std::string(key) + "' from the catalog"));
  if (!row) return std::optional<std::string>{};
  return std::optional<std::string>{stmt.column_text(0)};
}

}  // namespace bkp::catalog
