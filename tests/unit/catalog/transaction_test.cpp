#include <stdexcept>

#include "helpers.hpp"

using bkp::catalog::Catalog;
using bkp::test::open_catalog;
using bkp::test::TempDir;
using bkp::util::ErrorKind;
using bkp::util::fail;
using bkp::util::Status;

TEST_CASE("meta values are set, replaced and read", "[catalog]") {
  Catalog cat = bkp::test::memory_catalog();
  auto missing = cat.get_meta("nothing");
  REQUIRE(missing.ok());
  CHECK_FALSE(missing->has_value());
  REQUIRE(cat.set_meta("format", "1").ok());
  REQUIRE(cat.set_meta("format", "2").ok());
  CHECK(cat.get_meta("format")->value() == "2");
  REQUIRE(cat.set_meta("empty", "").ok());
  auto empty = cat.get_meta("empty");
  REQUIRE(empty->has_value());
  CHECK(empty->value().empty());
}

TEST_CASE("a transaction commits when fn succeeds", "[catalog]") {
  TempDir tmp;
  Catalog cat = open_catalog(tmp.path() / "c.db");
  auto status = cat.transaction([&]() -> Status {
    BKP_TRY(cat.set_meta("a", "1"));
    return cat.set_meta("b", "2");
  });
  REQUIRE(status.ok());
  Catalog other = open_catalog(tmp.path() / "c.db");
  CHECK(other.get_meta("a")->value() == "1");
  CHECK(other.get_meta("b")->value() == "2");
}

TEST_CASE("a transaction rolls back and returns fn's error", "[catalog]") {
  Catalog cat = bkp::test::memory_catalog();
  REQUIRE(cat.set_meta("a", "before").ok());
  auto status = cat.transaction([&]() -> Status {
    REQUIRE(cat.set_meta("a", "during").ok());
    REQUIRE(cat.set_meta("b", "during").ok());
    return fail(ErrorKind::interrupted, "stopped");
  });
  REQUIRE_FALSE(status.ok());
  CHECK(status.error().kind == ErrorKind::interrupted);
  CHECK(status.error().message == "stopped");
  CHECK(cat.get_meta("a")->value() == "before");
  CHECK_FALSE(cat.get_meta("b")->has_value());
  CHECK(sqlite3_get_autocommit(cat.handle()) != 0);  // nothing left open
}

TEST_CASE("a transaction rolls back when fn throws", "[catalog]") {
  Catalog cat = bkp::test::memory_catalog();
  CHECK_THROWS_AS(cat.transaction([&]() -> Status {
    REQUIRE(cat.set_meta("a", "1").ok());
    throw std::runtime_error("bug");
  }),
                  std::runtime_error);
  CHECK_FALSE(cat.get_meta("a")->has_value());
  CHECK(sqlite3_get_autocommit(cat.handle()) != 0);
  CHECK(cat.transaction([] { return Status{}; }).ok());
}

TEST_CASE("nested transactions are savepoints", "[catalog]") {
  Catalog cat = bkp::test::memory_catalog();
  SECTION("an inner error undoes only the inner part") {
    auto status = cat.transaction([&]() -> Status {
      BKP_TRY(cat.set_meta("outer", "1"));
      auto inner = cat.transaction([&]() -> Status {
        REQUIRE(cat.set_meta("inner", "1").ok());
        return fail(ErrorKind::generic, "inner failed");
      });
      CHECK_FALSE(inner.ok());
      CHECK(sqlite3_get_autocommit(cat.handle()) == 0);  // the outer one is still open
      return cat.set_meta("after", "1");
    });
    REQUIRE(status.ok());
    CHECK(cat.get_meta("outer")->has_value());
    CHECK_FALSE(cat.get_meta("inner")->has_value());
    CHECK(cat.get_meta("after")->has_value());
  }
  SECTION("an outer error undoes a committed inner part") {
    auto status = cat.transaction([&]() -> Status {
      BKP_TRY(cat.transaction([&] { return cat.set_meta("inner", "1"); }));
      return fail(ErrorKind::generic, "outer failed");
    });
    REQUIRE_FALSE(status.ok());
    CHECK_FALSE(cat.get_meta("inner")->has_value());
  }
  SECTION("three levels") {
    auto status = cat.transaction([&]() -> Status {
      return cat.transaction(
          [&]() -> Status { return cat.transaction([&] { return cat.set_meta("deep", "1"); }); });
    });
    REQUIRE(status.ok());
    CHECK(cat.get_meta("deep")->has_value());
  }
}

TEST_CASE("a failed COMMIT is reported and leaves no transaction open", "[catalog]") {
  Catalog cat = bkp::test::memory_catalog();
  // A deferred foreign key violation only fails at COMMIT.
  bkp::test::raw_exec(cat,
                      "CREATE TABLE parent(id INTEGER PRIMARY KEY);"
                      "CREATE TABLE child(p INTEGER REFERENCES parent(id) "
                      "DEFERRABLE INITIALLY DEFERRED)");
  auto status = cat.transaction([&]() -> Status {
    bkp::test::raw_exec(cat, "INSERT INTO child VALUES (5)");
    return {};
  });
  REQUIRE_FALSE(status.ok());
  CHECK(status.error().kind == ErrorKind::io);
  CHECK(status.error().message.rfind("committing a catalog transaction: ", 0) == 0);
  CHECK(sqlite3_get_autocommit(cat.handle()) != 0);
  bkp::test::raw_exec(cat, "SELECT count(*) FROM child");
}
