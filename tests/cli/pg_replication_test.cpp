// Physical backups over the replication protocol (BASE_BACKUP) against a
// real PostgreSQL 15: a role that may only replicate, over TCP with a
// password; restored servers compared with the source table by table.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>

#include "pg_cluster.hpp"
#include "pg_host.hpp"

namespace fs = std::filesystem;
using bkp::test::PgCluster;
using nlohmann::json;
using namespace bkp::test::pghost;

namespace {

// A role with REPLICATION and LOGIN only: it may not read data_directory
// nor call pg_backup_start, so "auto" must take the replication path.
void make_replication_role(const PgCluster& pg) {
  pg.sql("CREATE ROLE repl REPLICATION LOGIN PASSWORD 'repl-secret'");
}

}  // namespace

TEST_CASE("base backup over the replication protocol: full, incremental, restore, the same tables",
          "[postgres][replication]") {
  if (skip()) return;
  Host host;
  PgCluster pg({{"archive_mode = on", host.archive_command()}});
  make_replication_role(pg);
  host.configure(pg.port(), "repl-secret", "repl");
  const auto space = host.dir.path() / "space";
  fs::create_directory(space);
  PgCluster::give_to_postgres(space);
  pg.sql("CREATE TABLESPACE outside LOCATION '" + space.string() + "'");
  pg.sql("CREATE TABLE far(id int PRIMARY KEY, body text) TABLESPACE outside");
  pg.sql("INSERT INTO far SELECT g, md5(g::text) FROM generate_series(1, 5000) g");
  pg.sql("CREATE TABLE accounts(id int PRIMARY KEY, owner text, balance numeric)");
  pg.sql("INSERT INTO accounts SELECT g, 'owner ' || g, g * 1.5 FROM generate_series(1, 20000) g");
  pg.sql(
      "CREATE TABLE big AS SELECT g AS id, repeat(md5(g::text), 10) AS body "
      "FROM generate_series(1, 30000) g");
  const auto oid = pg.sql("SELECT oid FROM pg_tablespace WHERE spcname = 'outside'");
  const auto system_id = pg.sql("SELECT system_identifier FROM pg_control_system()");

  // auto: the role cannot see the data directory, so replication.
  auto full = host.backup({"--type", "full", "--limit-rate", "500M"});
  const auto& x = full["extra"];
  CHECK(full["backup_type"] == "full");
  CHECK(x["mode"] == "physical");
  CHECK(x["via"] == "replication");
  CHECK(x["data_directory"] == "/pgdata-" + system_id);
  CHECK(x["system_identifier"] == system_id);
  CHECK(x["backup_label"].get<std::string>().find("START WAL LOCATION") != std::string::npos);
  CHECK(x["backup_label"].get<std::string>().find("BACKUP METHOD: streamed") != std::string::npos);
  CHECK(x["wal_start"].get<std::string>().size() == 24);
  CHECK(x["wal_stop"] >= x["wal_start"]);
  CHECK(x["timeline"] == 1);
  REQUIRE(x["tablespaces"].size() == 1);
  CHECK(x["tablespaces"][0]["oid"] == oid);
  CHECK(x["tablespaces"][0]["name"] == "outside");
  CHECK(x["tablespaces"][0]["location"] == space.string());
  CHECK(x["tablespace_map"].get<std::string>().find(oid + " " + space.string()) !=
        std::string::npos);
  CHECK(full["stats"]["files_new"].get<int>() > 500);
  // The tree is the local path's: the data directory, the tablespace as
  // one more root, pg_tblspc/<oid> a symlink, no WAL, no backup_label.
  auto ls = host.run({"ls", full["snapshot"], "/pgdata-" + system_id});
  INFO(ls.err);
  CHECK(ls.out.find("PG_VERSION") != std::string::npos);
  CHECK(ls.out.find("backup_label") == std::string::npos);
  auto wal = host.run({"ls", full["snapshot"], "/pgdata-" + system_id + "/pg_wal"});
  CHECK(wal.out.find("0000000") == std::string::npos);
  auto far = host.run({"ls", full["snapshot"], space.string()});
  CHECK(far.out.find("PG_15_") != std::string::npos);

  // Changes, then an incremental: it reads everything again but stores
  // little, since unchanged files and chunks deduplicate.
  pg.sql("UPDATE accounts SET balance = balance + 1 WHERE id % 7 = 0");
  pg.sql("CREATE TABLE later AS SELECT g AS n FROM generate_series(1, 500) g");
  pg.sql("INSERT INTO far VALUES (5001, 'after')");
  pg.sql("CHECKPOINT");
  auto incr = host.backup({"--pg-via", "replication"});
  CHECK(incr["backup_type"] == "incremental");
  CHECK(incr["parent"] == full["snapshot"]);
  const auto& st = incr["stats"];
  CHECK(st["files_unmodified"].get<int>() > 500);
  CHECK(st["files_changed"].get<int>() + st["files_new"].get<int>() > 0);
  std::printf("replication: full %.2f s, %llu bytes; incremental %.2f s, %llu of %llu bytes new\n",
              full["seconds"].get<double>(), full["stats"]["total_bytes"].get<unsigned long long>(),
              incr["seconds"].get<double>(), st["raw_bytes_new"].get<unsigned long long>(),
              st["total_bytes"].get<unsigned long long>());
  CHECK(st["raw_bytes_new"].get<std::uint64_t>() * 4 < st["total_bytes"].get<std::uint64_t>());
  pg.sql("INSERT INTO later VALUES (501)");
  wait_archived(pg);
  const auto expected = fingerprint([&](const std::string& q) { return pg.sql(q); });
  CHECK(expected.find("later: 501 ") != std::string::npos);
  CHECK(expected.find("far: 5001 ") != std::string::npos);

  SECTION("the incremental, restored and recovered to the end of the archive") {
    Restored r{host.dir.path() / "restored", pg.socket_dir(), bkp::test::free_tcp_port()};
    auto rep = restore(host, {incr["snapshot"], "--target-dir", r.dir.string(), "--latest",
                              "--start", "--port", std::to_string(r.port)});
    CHECK(rep["started"] == true);
    CHECK(fs::read_symlink(r.dir / "pg_tblspc" / oid) == r.dir / "bkp_tablespaces" / oid);
    CHECK(r.sql("SELECT pg_is_in_recovery()") == "f");
    CHECK(fingerprint([&](const std::string& q) { return r.sql(q); }) == expected);
  }
  SECTION("the full, restored: the same tables") {
    Restored r{host.dir.path() / "restored-full", pg.socket_dir(), bkp::test::free_tcp_port()};
    restore(host, {full["snapshot"], "--target-dir", r.dir.string(), "--latest", "--start",
                   "--port", std::to_string(r.port)});
    CHECK(fingerprint([&](const std::string& q) { return r.sql(q); }) == expected);
  }
  SECTION("verify --read-data: every chunk of both reads back") {
    auto v = host.run({"verify", "--read-data"});
    INFO(v.err);
    CHECK(v.status == 0);
  }
}

TEST_CASE("replication base backup as a superuser keeps the data directory's name; PITR",
          "[postgres][replication][pitr]") {
  if (skip()) return;
  Host host;
  PgCluster pg({{"archive_mode = on", host.archive_command()}});
  host.configure(pg.port(), pg.password());
  pg.sql("CREATE TABLE events(id serial, batch text)");
  auto base = host.backup({"--type", "full", "--pg-via", "replication"});
  CHECK(base["extra"]["via"] == "replication");
  CHECK(base["extra"]["data_directory"] == pg.data_dir().string());
  CHECK(base["source"].get<std::string>().find(":" + pg.data_dir().string()) != std::string::npos);
  pg.sql("INSERT INTO events(batch) SELECT 'A' FROM generate_series(1, 1000)");
  wait_archived(pg);
  const auto noted = pg.time_between_commits();
  pg.sql("INSERT INTO events(batch) SELECT 'B' FROM generate_series(1, 700)");
  wait_archived(pg);

  Restored r{host.dir.path() / "pitr", pg.socket_dir(), bkp::test::free_tcp_port()};
  auto rep = restore(host, {"--target-dir", r.dir.string(), "--to-time", noted, "--start", "--port",
                            std::to_string(r.port)});
  CHECK(rep["snapshot"] == base["snapshot"]);
  CHECK(r.sql("SELECT batch || ':' || count(*) FROM events GROUP BY batch ORDER BY batch") ==
        "A:1000");
}

TEST_CASE("replication base backup: wrong password, server down, no replication right",
          "[postgres][replication]") {
  if (skip()) return;
  Host host;
  PgCluster pg({{"archive_mode = on", host.archive_command()}});
  make_replication_role(pg);
  pg.sql("CREATE ROLE plain LOGIN PASSWORD 'plain-secret'");

  host.configure(pg.port(), "not-the-password", "repl");
  auto r = host.run({"backup", "postgres", "--mode", "physical", "--pg-via", "replication"});
  CHECK(r.status == 1);
  CHECK(r.err.find("password authentication failed") != std::string::npos);
  // auto tries the local path first, then replication: the same answer.
  r = host.run({"backup", "postgres", "--mode", "physical"});
  CHECK(r.status == 1);
  CHECK(r.err.find("password authentication failed") != std::string::npos);

  host.configure(pg.port(), "plain-secret", "plain");
  r = host.run({"backup", "postgres", "--mode", "physical", "--pg-via", "replication"});
  CHECK(r.status == 1);
  CHECK(r.err.find("replication") != std::string::npos);

  host.configure(pg.port(), "repl-secret", "repl");
  pg.stop();
  r = host.run({"backup", "postgres", "--mode", "physical", "--pg-via", "replication"});
  CHECK(r.status == 1);
  CHECK(r.err.find("connecting to postgres at '127.0.0.1:" + std::to_string(pg.port())) !=
        std::string::npos);
  CHECK(host.snapshots() == 0);

  r = host.run({"backup", "postgres", "--pg-via", "replication"});
  CHECK(r.status == 2);
  r = host.run({"backup", "postgres", "--mode", "physical", "--pg-via", "sideways"});
  CHECK(r.status == 2);
}
