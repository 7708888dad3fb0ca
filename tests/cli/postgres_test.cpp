// bkp against a real PostgreSQL 15: logical backup and restore compared
// table by table, the failures that must leave no snapshot, and WAL
// archiving through archive_command with a configuration file.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "cli_helpers.hpp"
#include "pg_cluster.hpp"
#include "util/fs.hpp"

namespace fs = std::filesystem;
using bkp::test::Cli;
using bkp::test::PgCluster;
using bkp::test::Run;

namespace {

bool skip() {
  auto why = PgCluster::skip_reason();
  if (why.empty()) return false;
  std::printf("BKP-SKIP: %s\n", why.c_str());
  return true;
}

void write(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::trunc) << text;
}

// A repository opened by a key file and a bkp.toml that names it, its
// catalog and the client programs, in `dir`.
struct Repo {
  Cli cli;
  fs::path conf;
  explicit Repo(const fs::path& dir) : conf(dir / "bkp.toml") {
    write(conf, "repository = \"" + (dir / "repo").string() + "\"\n" + "key_file = \"" +
                    (dir / "key").string() + "\"\n" + "catalog = \"" +
                    (dir / "catalog.db").string() + "\"\n[postgres]\nbin_dir = \"" +
                    PgCluster::bin_dir().string() + "\"\n");
    auto r = run({"init", "--generate-key-file"});
    REQUIRE(r.status == 0);
  }
  Run run(std::vector<std::string> args, const std::string& input = {}) const {
    args.insert(args.begin(), {"--config", conf.string()});
    return cli.run(args, input);
  }
  std::size_t snapshot_count() const {
    auto r = run({"--json", "snapshots"});
    REQUIRE(r.status == 0);
    std::size_t n = 0;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);)
      if (nlohmann::json::parse(line).value("type", "") == "snapshot") ++n;
    return n;
  }
};

// TCP with a password (scram-sha-256), through the mission's DB_* names.
void connect_by_tcp(Cli& cli, const PgCluster& pg, const std::string& password,
                    const std::string& db) {
  cli.env["DB_HOST"] = "127.0.0.1";
  cli.env["DB_PORT"] = std::to_string(pg.port());
  cli.env["DB_USER"] = "postgres";
  cli.env["DB_PASSWORD"] = password;
  cli.env["DB_NAME"] = db;
}

void make_app_database(const PgCluster& pg) {
  pg.sql("CREATE DATABASE app");
  pg.sql(R"(
    CREATE SCHEMA shop;
    CREATE TABLE shop.items(id serial PRIMARY KEY, name text NOT NULL, price numeric(10,2),
                            data jsonb, created timestamptz DEFAULT '2026-01-01 00:00:00+00');
    INSERT INTO shop.items(name, price, data)
      SELECT 'item ' || i, i * 1.25, jsonb_build_object('i', i, 'tags', ARRAY['a', 'b'])
      FROM generate_series(1, 5000) i;
    CREATE TABLE notes(id bigint GENERATED ALWAYS AS IDENTITY, body text);
    INSERT INTO notes(body) VALUES ('héllo wörld'), (NULL), (E'tab\there'), ('');
    CREATE SEQUENCE shop.counter START 100;
    SELECT setval('shop.counter', 4242);
    CREATE VIEW shop.expensive AS SELECT * FROM shop.items WHERE price > 6000;
    SELECT lo_from_bytea(424242, decode(repeat('0123456789abcdef', 20000), 'hex'));
  )",
         "app");
}

// Every table's rows (as text, sorted), the sequence, the view and the
// large object must be the same in both databases.
void require_same(const PgCluster& pg, const std::string& a, const std::string& b) {
  const std::string tables =
      "SELECT schemaname || '.' || tablename FROM pg_tables WHERE schemaname NOT IN "
      "('pg_catalog', 'information_schema') ORDER BY 1";
  auto list = pg.sql(tables, a);
  REQUIRE(list == pg.sql(tables, b));
  REQUIRE(list.find("shop.items") != std::string::npos);
  std::istringstream in(list);
  int n = 0;
  for (std::string t; std::getline(in, t); ++n) {
    auto q =
        "SELECT count(*) || ':' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') "
        "FROM " +
        t + " x";
    INFO(t);
    CHECK(pg.sql(q, a) == pg.sql(q, b));
  }
  CHECK(n == 2);
  CHECK(pg.sql("SELECT last_value FROM shop.counter", b) == "4242");
  CHECK(pg.sql("SELECT count(*) FROM shop.expensive", b) ==
        pg.sql("SELECT count(*) FROM shop.expensive", a));
  CHECK(pg.sql("SELECT md5(lo_get(424242))", b) == pg.sql("SELECT md5(lo_get(424242))", a));
  CHECK(pg.sql("SELECT nextval('notes_id_seq')", b) == "5");
}

}  // namespace

TEST_CASE("logical backup and restore of a PostgreSQL database", "[postgres]") {
  if (skip()) return;
  PgCluster pg;
  make_app_database(pg);
  bkp::test::TempDir work;
  Repo repo(work.path());
  connect_by_tcp(repo.cli, pg, pg.password(), "app");

  auto r = repo.run({"--json", "backup", "postgres", "--mode", "logical"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["source"] == "postgres:app");
  CHECK(j["extra"]["mode"] == "logical");
  CHECK(j["extra"]["database"] == "app");
  CHECK(j["extra"]["server_version"].get<std::string>().rfind("15.", 0) == 0);
  CHECK(j["stats"]["total_bytes"].get<std::uint64_t>() > 100000);

  SECTION("restore piped into pg_restore") {
    r = repo.run({"--json", "restore", "postgres", "latest", "--database", "app_copy", "--create"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    auto rj = nlohmann::json::parse(r.out);
    CHECK(rj["database"] == "app_copy");
    CHECK(rj["source_database"] == "app");
    require_same(pg, "app", "app_copy");
    // Restoring again into the now full database fails loudly.
    r = repo.run({"restore", "postgres", "latest", "--database", "app_copy"});
    CHECK(r.status == 1);
    CHECK(r.err.find("restoring 'app' into 'app_copy'") != std::string::npos);
  }
  SECTION("restore with parallel jobs through a temporary file") {
    bkp::test::TempDir tmp;
    repo.cli.env["TMPDIR"] = tmp.path().string();
    r = repo.run(
        {"restore", "postgres", "latest", "--database", "app_jobs", "--create", "--jobs", "3"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    require_same(pg, "app", "app_jobs");
    CHECK(fs::is_empty(tmp.path()));  // the temporary dump is gone
  }
  SECTION("a second dump of a slightly changed database stores little") {
    // Large enough for many chunks: the change touches one of them.
    pg.sql(
        "CREATE TABLE big AS SELECT g AS id, md5(g::text) AS a, md5((g * 7)::text) AS b "
        "FROM generate_series(1, 300000) g",
        "app");
    REQUIRE(repo.run({"backup", "postgres"}).status == 0);
    pg.sql("INSERT INTO notes(body) VALUES ('one more')", "app");
    r = repo.run({"--json", "backup", "postgres"});
    REQUIRE(r.status == 0);
    auto j2 = nlohmann::json::parse(r.out);
    auto total = j2["stats"]["total_bytes"].get<std::uint64_t>();
    auto fresh = j2["stats"]["raw_bytes_new"].get<std::uint64_t>();
    INFO(total << " bytes dumped, " << fresh << " new");
    CHECK(fresh < total / 2);
  }
  SECTION("all databases: globals and one dump each in one snapshot") {
    pg.sql("CREATE DATABASE other");
    pg.sql("CREATE ROLE reporter LOGIN");
    r = repo.run({"--json", "backup", "postgres", "--all-databases"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    auto aj = nlohmann::json::parse(r.out);
    CHECK(aj["source"] == "postgres:(all)");
    CHECK(aj["extra"]["dumps"].size() == 3);  // app, other, postgres
    auto id = aj["snapshot"].get<std::string>();
    auto ls = repo.run({"ls", id});
    CHECK(ls.out.find("/globals.sql") != std::string::npos);
    CHECK(ls.out.find("/other.dump") != std::string::npos);
    auto globals = repo.run({"restore", id, "--to-stdout", "/globals.sql"});
    CHECK(globals.out.find("CREATE ROLE reporter") != std::string::npos);
    pg.sql("DROP ROLE reporter");
    r = repo.run({"restore", "postgres", id, "--globals-only"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(pg.sql("SELECT count(*) FROM pg_roles WHERE rolname = 'reporter'") == "1");
    r = repo.run({"restore", "postgres", id, "--database", "x"});
    CHECK(r.status == 2);
    CHECK(r.err.find("app, other, postgres") != std::string::npos);
    r = repo.run(
        {"restore", "postgres", id, "--from-database", "app", "--database", "app_all", "--create"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    require_same(pg, "app", "app_all");
  }
  SECTION("--pg-* flags win over the configuration") {
    // Over the Unix socket (trust) instead of TCP: no password needed.
    repo.cli.env.erase("DB_PASSWORD");
    r = repo.run({"backup", "postgres", "--pg-host", pg.socket_dir(), "--pg-database", "postgres",
                  "--database", "app"});
    INFO(r.err);
    CHECK(r.status == 0);
    r = repo.run({"backup", "postgres", "--pg-port", "1", "--database", "app"});
    CHECK(r.status == 1);
  }
  SECTION("a snapshot that is not a logical backup is refused") {
    r = repo.run({"backup", "stdin", "--name", "x"}, "data");
    REQUIRE(r.status == 0);
    r = repo.run({"restore", "postgres", "latest", "--database", "y"});
    CHECK(r.status == 2);
    CHECK(r.err.find("not a logical PostgreSQL backup") != std::string::npos);
    r = repo.run({"restore", "postgres", "latest", "--globals-only"});
    CHECK(r.status == 2);
    CHECK(r.err.find("has no globals.sql") != std::string::npos);
  }
}

TEST_CASE("failed PostgreSQL backups leave no snapshot", "[postgres]") {
  if (skip()) return;
  PgCluster pg;
  bkp::test::TempDir work;
  Repo repo(work.path());

  SECTION("wrong password") {
    connect_by_tcp(repo.cli, pg, "not-the-password", "postgres");
    auto r = repo.run({"backup", "postgres"});
    CHECK(r.status == 1);
    CHECK(r.err.find("password authentication failed") != std::string::npos);
    CHECK(r.err.find("not-the-password") == std::string::npos);
    CHECK(repo.snapshot_count() == 0);
  }
  SECTION("server down") {
    connect_by_tcp(repo.cli, pg, pg.password(), "postgres");
    pg.stop();
    auto started = std::chrono::steady_clock::now();
    auto r = repo.run({"backup", "postgres", "--all-databases"});
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
    CHECK(r.status == 1);
    CHECK(r.err.find("connecting to postgres at '127.0.0.1:" + std::to_string(pg.port())) !=
          std::string::npos);
    CHECK(took.count() < 5);
    CHECK(repo.snapshot_count() == 0);
  }
  SECTION("no database named") {
    connect_by_tcp(repo.cli, pg, pg.password(), "");
    repo.cli.env.erase("DB_NAME");
    auto r = repo.run({"backup", "postgres"});
    CHECK(r.status == 2);
  }
  SECTION("the dump dies midway") {
    // A pg_dump that writes part of a dump and fails; it also records its
    // arguments and whether the password came in its environment.
    auto bin = work.path() / "bin";
    fs::create_directories(bin);
    fs::create_symlink(PgCluster::bin_dir() / "psql", bin / "psql");
    write(bin / "pg_dump", "#!/bin/sh\necho \"$@\" > " + (work.path() / "args").string() +
                               "\nprintenv PGPASSWORD > " + (work.path() / "pw").string() +
                               "\nhead -c 3000000 /dev/urandom\nexit 1\n");
    fs::permissions(bin / "pg_dump", fs::perms::owner_all);
    connect_by_tcp(repo.cli, pg, pg.password(), "postgres");
    repo.cli.env["BKP_PG_BIN_DIR"] = bin.string();
    auto r = repo.run({"backup", "postgres"});
    CHECK(r.status == 1);
    CHECK(r.err.find("pg_dump' exited with status 1; no snapshot written") != std::string::npos);
    CHECK(repo.snapshot_count() == 0);
    auto args = bkp::util::read_text_file(work.path() / "args");
    REQUIRE(args.ok());
    CHECK(args->find("--format=custom") != std::string::npos);
    CHECK(args->find(pg.password()) == std::string::npos);
    CHECK(*bkp::util::read_text_file(work.path() / "pw") == pg.password() + "\n");
  }
}
