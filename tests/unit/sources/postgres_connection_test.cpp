#include <catch2/catch.hpp>

#include <fstream>

#include "sources/postgres/connection.hpp"
#include "test_tmpdir.hpp"

namespace pg = bkp::sources::postgres;
using bkp::config::Config;
using bkp::config::Origin;

TEST_CASE("postgres connection settings come from the configuration", "[postgres]") {
  Config c;
  c.set("postgres.host", "db.example", Origin::config_file);
  c.set("postgres.port", "6543", Origin::environment);
  c.set("postgres.user", "backup", Origin::config_file);
  c.set("postgres.database", "app", Origin::command_line);
  c.set("postgres.password", "from-config", Origin::environment);
  c.set("postgres.bin_dir", "/opt/pg/bin", Origin::config_file);
  auto conn = pg::connection_from_config(c);
  REQUIRE(conn.ok());
  CHECK(conn->host == "db.example");
  CHECK(conn->port == "6543");
  CHECK(pg::program(*conn, "pg_dump") == "/opt/pg/bin/pg_dump");
  CHECK(pg::describe(*conn) == "postgres at 'db.example:6543'");

  auto env = pg::client_environment(*conn);
  CHECK(env.env.at("PGHOST") == "db.example");
  CHECK(env.env.at("PGPORT") == "6543");
  CHECK(env.env.at("PGUSER") == "backup");
  CHECK(env.env.at("PGDATABASE") == "app");
  CHECK(env.env.at("PGPASSWORD") == "from-config");
  CHECK(pg::client_environment(*conn, "other").env.at("PGDATABASE") == "other");

  SECTION("a password file wins, first line only") {
    bkp::test::TempDir d;
    std::ofstream(d.path() / "pw") << "from-file\nsecond line\n";
    c.set("postgres.password_file", (d.path() / "pw").string(), Origin::config_file);
    auto c2 = pg::connection_from_config(c);
    REQUIRE(c2.ok());
    CHECK(pg::client_environment(*c2).env.at("PGPASSWORD") == "from-file");
    c.set("postgres.password_file", (d.path() / "missing").string(), Origin::config_file);
    CHECK(!pg::connection_from_config(c).ok());
  }
}

TEST_CASE("unset postgres settings are left to libpq", "[postgres]") {
  Config c;
  auto conn = pg::connection_from_config(c);
  REQUIRE(conn.ok());
  CHECK(pg::program(*conn, "psql") == "psql");
  CHECK(pg::describe(*conn) == "postgres");
  auto env = pg::client_environment(*conn);
  for (auto name : {"PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD"}) {
    INFO(name);
    CHECK(env.env.count(name) == 0);
  }
  CHECK(env.env.at("PGAPPNAME") == "bkp");
}

TEST_CASE("a query that cannot run says which server and why", "[postgres]") {
  pg::Connection conn;
  conn.bin_dir = "/nonexistent/bin";
  auto r = pg::query(conn, "SELECT 1");
  REQUIRE(!r.ok());
  CHECK(r.error().message.find("running psql for postgres") != std::string::npos);

  // A psql that fails like a refused connection.
  bkp::test::TempDir d;
  std::ofstream(d.path() / "psql")
      << "#!/bin/sh\necho 'psql: error: connection refused' >&2\nexit 2\n";
  std::filesystem::permissions(d.path() / "psql", std::filesystem::perms::owner_all);
  conn.bin_dir = d.path().string();
  conn.host = "h";
  r = pg::query(conn, "SELECT 1");
  REQUIRE(!r.ok());
  CHECK(r.error().message == "connecting to postgres at 'h': connection refused");

  // One that answers: rows of the first column, blank lines dropped.
  std::ofstream(d.path() / "psql", std::ios::trunc) << "#!/bin/sh\nprintf '15.5\\n\\nb\\n'\n";
  auto v = pg::server_version(conn);
  REQUIRE(v.ok());
  CHECK(*v == "15.5");
  auto dbs = pg::list_databases(conn);
  REQUIRE(dbs.ok());
  CHECK(*dbs == std::vector<std::string>{"15.5", "b"});
  std::ofstream(d.path() / "psql", std::ios::trunc) << "#!/bin/sh\nexit 0\n";
  CHECK(!pg::server_version(conn).ok());
}
