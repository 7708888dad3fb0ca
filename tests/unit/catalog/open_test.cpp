#include <sys/stat.h>

#include <fstream>
#include <set>
#include <thread>
#include <vector>

#include "helpers.hpp"
#include "util/fs.hpp"

using bkp::catalog::Catalog;
using bkp::test::open_catalog;
using bkp::test::raw_exec;
using bkp::test::TempDir;
using bkp::util::ErrorKind;

namespace {

mode_t mode_of(const std::filesystem::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

std::set<std::string> table_names(Catalog& cat) {
  std::set<std::string> names;
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(cat.handle(), "SELECT name FROM sqlite_schema WHERE type = 'table'",
                             -1, &stmt, nullptr) == SQLITE_OK);
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    names.insert(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
  }
  sqlite3_finalize(stmt);
  return names;
}

std::string pragma_text(Catalog& cat, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(cat.handle(), sql, -1, &stmt, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
  std::string value = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  sqlite3_finalize(stmt);
  return value;
}

}  // namespace

TEST_CASE("a new catalog has every table of schema version 2", "[catalog]") {
  TempDir tmp;
  Catalog cat = open_catalog(tmp.path() / "catalog.db");
  CHECK(cat.schema_version() == 2);
  auto names = table_names(cat);
  for (const char* t :
       {"meta", "blobs", "index_segments", "backups", "recovery_jobs", "audit_log"}) {
    INFO(t);
    CHECK(names.count(t) == 1);
  }
  CHECK(pragma_text(cat, "PRAGMA journal_mode") == "wal");
  CHECK(pragma_text(cat, "PRAGMA foreign_keys") == "1");
  CHECK(pragma_text(cat, "PRAGMA synchronous") == "1");  // NORMAL
  CHECK(pragma_text(cat, "PRAGMA cache_size") == "-32768");
  CHECK(pragma_text(cat, "PRAGMA mmap_size") == "0");  // bounded memory: doc/catalog.md
  CHECK(pragma_text(cat, "PRAGMA busy_timeout") == "10000");
  CHECK(pragma_text(cat, "PRAGMA application_id") == std::to_string(0x626b7031));
  // The blobs table has the pack index remove_pack relies on.
  CHECK(pragma_text(cat, "SELECT count(*) FROM sqlite_schema WHERE name = 'blobs_pack'") == "1");
}

TEST_CASE("the in-memory catalog has the schema too", "[catalog]") {
  Catalog cat = bkp::test::memory_catalog();
  CHECK(cat.schema_version() == 2);
  CHECK(table_names(cat).count("backups") == 1);
  REQUIRE(cat.set_meta("k", "v").ok());
  CHECK(cat.get_meta("k")->value() == "v");
}

TEST_CASE("reopening a catalog keeps its data and does not migrate twice", "[catalog]") {
  TempDir tmp;
  auto file = tmp.path() / "catalog.db";
  {
    Catalog cat = open_catalog(file);
    REQUIRE(cat.set_meta("repository_id", "abc").ok());
  }
  Catalog cat = open_catalog(file);
  CHECK(cat.schema_version() == 2);
  auto value = cat.get_meta("repository_id");
  REQUIRE(value.ok());
  REQUIRE(value->has_value());
  CHECK(**value == "abc");
}

TEST_CASE("catalog files are private to the user", "[catalog]") {
  TempDir tmp;
  auto file = tmp.path() / "a" / "b" / "catalog.db";
  mode_t old = ::umask(0);  // the catalog must not depend on a tight umask
  auto opened = Catalog::open(file);
  ::umask(old);
  REQUIRE(opened.ok());
  Catalog cat = std::move(opened).value();
  REQUIRE(cat.set_meta("k", "v").ok());  // a write creates -wal and -shm
  CHECK(mode_of(file) == 0600);
  CHECK(mode_of(file.string() + "-wal") == 0600);
  CHECK(mode_of(file.string() + "-shm") == 0600);
  CHECK(mode_of(tmp.path() / "a") == 0700);
  CHECK(mode_of(tmp.path() / "a" / "b") == 0700);
}

TEST_CASE("a file that is not a database is a usage error", "[catalog]") {
  TempDir tmp;
  auto file = tmp.path() / "catalog.db";
  {
    std::ofstream out(file, std::ios::binary);
    for (int i = 0; i < 512; ++i) out << "this is not sqlite ";
  }
  auto opened = Catalog::open(file);
  REQUIRE_FALSE(opened.ok());
  CHECK(opened.error().kind == ErrorKind::usage);
  CHECK(opened.error().message ==
        "catalog '" + file.string() + "' is not a bkp catalog: file is not a database");
}

TEST_CASE("another program's SQLite database is not taken over", "[catalog]") {
  TempDir tmp;
  auto file = tmp.path() / "other.db";
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "CREATE TABLE mine(x)", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  auto opened = Catalog::open(file);
  REQUIRE_FALSE(opened.ok());
  CHECK(opened.error().kind == ErrorKind::usage);
  CHECK(opened.error().message.find(
            "is not a bkp catalog: an SQLite database of another program") != std::string::npos);

  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "DROP TABLE mine; PRAGMA application_id = 42", nullptr, nullptr,
                         nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  opened = Catalog::open(file);
  REQUIRE_FALSE(opened.ok());
  CHECK(opened.error().kind == ErrorKind::usage);
}

TEST_CASE("a catalog from a newer bkp asks for an upgrade", "[catalog]") {
  TempDir tmp;
  auto file = tmp.path() / "catalog.db";
  {
    Catalog cat = open_catalog(file);
    raw_exec(cat, "PRAGMA user_version = 999");
  }
  auto opened = Catalog::open(file);
  REQUIRE_FALSE(opened.ok());
  CHECK(opened.error().kind == ErrorKind::usage);
  CHECK(opened.error().message == "catalog '" + file.string() +
                                      "' has schema version 999, newer than this bkp knows (2): "
                                      "upgrade bkp");
}

TEST_CASE("an unreadable catalog path is an io error", "[catalog]") {
  TempDir tmp;
  // A directory where the file should be.
  std::filesystem::create_directories(tmp.path() / "catalog.db");
  auto opened = Catalog::open(tmp.path() / "catalog.db");
  REQUIRE_FALSE(opened.ok());
  CHECK(opened.error().kind == ErrorKind::io);
  CHECK(opened.error().message.rfind("opening catalog '", 0) == 0);

  // A file where the parent directory should be.
  REQUIRE(bkp::util::write_file_atomic(tmp.path() / "plain", {}).ok());
  opened = Catalog::open(tmp.path() / "plain" / "catalog.db");
  REQUIRE_FALSE(opened.ok());
}

TEST_CASE("two connections see each other's committed writes", "[catalog]") {
  TempDir tmp;
  auto file = tmp.path() / "catalog.db";
  Catalog a = open_catalog(file);
  Catalog b = open_catalog(file);
  REQUIRE(a.set_meta("from_a", "1").ok());
  CHECK(b.get_meta("from_a")->value() == "1");

  bkp::catalog::BlobLocation blob;
  blob.id[0] = 7;
  blob.length = 10;
  REQUIRE(b.add_blobs({&blob, 1}).ok());
  auto found = a.find_blob(blob.id);
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->length == 10);

  // Uncommitted work of one connection stays invisible to the other.
  auto status = a.transaction([&]() -> bkp::util::Status {
    REQUIRE(a.set_meta("pending", "x").ok());
    CHECK_FALSE(b.get_meta("pending")->has_value());
    return {};
  });
  REQUIRE(status.ok());
  CHECK(b.get_meta("pending")->value() == "x");
}

TEST_CASE("a writer blocked past the busy timeout gets a locked error", "[catalog]") {
  TempDir tmp;
  auto file = tmp.path() / "catalog.db";
  Catalog a = open_catalog(file);
  Catalog b = open_catalog(file);
  sqlite3_busy_timeout(b.handle(), 50);  // the real 10 s would slow the test down
  auto status = a.transaction([&]() -> bkp::util::Status {
    auto inner = b.set_meta("k", "v");
    REQUIRE_FALSE(inner.ok());
    CHECK(inner.error().kind == ErrorKind::locked);
    CHECK(inner.error().message.find("database is locked") != std::string::npos);
    CHECK(inner.error().message.find(file.string()) != std::string::npos);
    auto tx = b.transaction([] { return bkp::util::Status{}; });
    REQUIRE_FALSE(tx.ok());
    CHECK(tx.error().kind == ErrorKind::locked);
    return {};
  });
  REQUIRE(status.ok());
  CHECK(b.set_meta("k", "v").ok());
}

TEST_CASE("a moved-from catalog is closed and harmless", "[catalog]") {
  TempDir tmp;
  Catalog a = open_catalog(tmp.path() / "catalog.db");
  REQUIRE(a.set_meta("k", "v").ok());
  bkp::catalog::Id32 id{};
  REQUIRE(a.find_blob(id).ok());  // caches a statement, which must move along
  Catalog b(std::move(a));
  CHECK(a.handle() == nullptr);  // NOLINT(bugprone-use-after-move): checking the moved-from state
  CHECK(a.schema_version() == -1);
  auto closed = a.get_meta("k");
  REQUIRE_FALSE(closed.ok());
  CHECK(closed.error().message == "using a closed catalog");
  CHECK_FALSE(a.transaction([] { return bkp::util::Status{}; }).ok());
  CHECK(b.get_meta("k")->value() == "v");
  CHECK(b.find_blob(id).ok());

  Catalog c = bkp::test::memory_catalog();
  c = std::move(b);              // closes c's own connection, takes b's
  CHECK(b.handle() == nullptr);  // NOLINT(bugprone-use-after-move)
  CHECK(c.get_meta("k")->value() == "v");
  CHECK(c.find_blob(id).ok());
  auto& self = c;
  c = std::move(self);  // self-move leaves it usable
  CHECK(c.get_meta("k")->value() == "v");
}

TEST_CASE("processes opening a new catalog at once migrate it once", "[catalog]") {
  TempDir tmp;
  auto file = tmp.path() / "catalog.db";
  constexpr int kOpeners = 6;
  std::vector<std::string> errors(kOpeners);
  std::vector<std::thread> threads;
  for (int i = 0; i < kOpeners; ++i) {
    // One connection per thread, as separate processes would have.
    threads.emplace_back([&, i] {
      auto opened = Catalog::open(file);
      if (!opened.ok()) {
        errors[static_cast<std::size_t>(i)] = opened.error().message;
        return;
      }
      auto st = opened->set_meta("opener" + std::to_string(i), "1");
      if (!st.ok()) errors[static_cast<std::size_t>(i)] = st.error().message;
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& e : errors) {
    INFO(e);
    CHECK(e.empty());
  }
  Catalog cat = open_catalog(file);
  CHECK(cat.schema_version() == 2);
  for (int i = 0; i < kOpeners; ++i) CHECK(cat.get_meta("opener" + std::to_string(i))->has_value());
}
