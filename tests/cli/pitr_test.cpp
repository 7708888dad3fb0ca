// Physical backups and point-in-time recovery against a real PostgreSQL 15:
// bkp runs as postgres on the database host (archive_command wal-push,
// backup postgres --mode physical, restore postgres --target-dir --start),
// and every restored server is compared with the source table by table.
#include <sys/stat.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <thread>

#include "catalog/catalog.hpp"
#include "pg_cluster.hpp"
#include "pg_host.hpp"

namespace fs = std::filesystem;
using bkp::test::PgCluster;
using bkp::test::run_as_postgres;
using nlohmann::json;
using namespace bkp::test::pghost;

TEST_CASE("physical backup, incremental, restore with --start: the same tables",
          "[postgres][pitr]") {
  if (skip()) return;
  Host host;
  PgCluster pg({{"archive_mode = on", host.archive_command()}});
  host.configure(pg.port(), pg.password());
  // The incremental takes a file from its parent unread only when it was
  // untouched for a second before the parent's pg_backup_start; on a fast
  // machine initdb's files are younger than that, and all would be re-read.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));

  pg.sql("CREATE TABLE accounts(id int PRIMARY KEY, owner text, balance numeric)");
  pg.sql("INSERT INTO accounts SELECT g, 'owner ' || g, g * 1.5 FROM generate_series(1, 20000) g");
  pg.sql("CREATE TABLE notes(id serial, body text)");
  pg.sql("INSERT INTO notes(body) SELECT repeat(md5(g::text), 20) FROM generate_series(1, 2000) g");

  auto full = host.backup({"--type", "full"});
  CHECK(full["backup_type"] == "full");
  const auto& x = full["extra"];
  CHECK(x["mode"] == "physical");
  CHECK(x["backup_label"].get<std::string>().find("START WAL LOCATION") != std::string::npos);
  CHECK(x["wal_start"].get<std::string>().size() == 24);
  CHECK(x["wal_stop"] >= x["wal_start"]);
  CHECK(x["timeline"] == 1);
  CHECK(!x["start_lsn"].get<std::string>().empty());
  CHECK(!x["stop_lsn"].get<std::string>().empty());
  // WAL, the pid file and transient state are not in the backup.
  auto ls = host.run({"ls", full["snapshot"], pg.data_dir().string() + "/pg_wal"});
  INFO(ls.err);
  CHECK(ls.out.find("0000000") == std::string::npos);

  // Changes after the full backup: the incremental must carry them.
  pg.sql("UPDATE accounts SET balance = balance + 1 WHERE id % 7 = 0");
  pg.sql("DELETE FROM notes WHERE id % 3 = 0");
  pg.sql("CREATE TABLE later AS SELECT g AS n FROM generate_series(1, 500) g");
  pg.sql("CHECKPOINT");
  auto incr = host.backup();
  CHECK(incr["backup_type"] == "incremental");
  CHECK(incr["parent"] == full["snapshot"]);
  CHECK(incr["stats"]["files_unmodified"].get<int>() > 0);
  CHECK(incr["stats"]["files_changed"].get<int>() + incr["stats"]["files_new"].get<int>() > 0);
  const auto expected = fingerprint([&](const std::string& q) { return pg.sql(q); });
  CHECK(expected.find("later: 500 ") != std::string::npos);
  // Written after the backup: a restore to the end of the WAL has it too.
  pg.sql("INSERT INTO later VALUES (501)");
  wait_archived(pg);
  const auto expected_latest = fingerprint([&](const std::string& q) { return pg.sql(q); });

  SECTION("the incremental, recovered to the end of the archive") {
    Restored r{host.dir.path() / "restored", pg.socket_dir(), bkp::test::free_tcp_port()};
    auto rep = restore(host, {incr["snapshot"], "--target-dir", r.dir.string(), "--latest",
                              "--start", "--port", std::to_string(r.port)});
    CHECK(rep["started"] == true);
    CHECK(rep["mode"] == "physical");
    CHECK(r.sql("SELECT pg_is_in_recovery()") == "f");
    CHECK(fingerprint([&](const std::string& q) { return r.sql(q); }) == expected_latest);
    // The copy does not archive into the original's repository.
    CHECK(r.sql("SHOW archive_mode") == "off");
  }
  SECTION("the incremental, up to its own end (--to-lsn of the stop point)") {
    Restored r{host.dir.path() / "restored", pg.socket_dir(), bkp::test::free_tcp_port()};
    restore(host, {incr["snapshot"], "--target-dir", r.dir.string(), "--to-lsn",
                   incr["extra"]["stop_lsn"], "--start", "--port", std::to_string(r.port)});
    CHECK(fingerprint([&](const std::string& q) { return r.sql(q); }) == expected);
  }
  SECTION("verify passes; a restore into a non-empty directory is refused") {
    auto v = host.run({"--json", "verify"});
    INFO(v.err);
    CHECK(v.status == 0);
    CHECK(json::parse(v.out)["wal_segments"].get<int>() >= 3);
    fs::create_directories(host.dir.path() / "busy");
    write(host.dir.path() / "busy" / "x", "x");
    PgCluster::give_to_postgres(host.dir.path() / "busy");
    auto r = host.run(
        {"restore", "postgres", "latest", "--target-dir", (host.dir.path() / "busy").string()});
    CHECK(r.status != 0);
    CHECK(r.err.find("not empty") != std::string::npos);
    // A logical restore flag with --target-dir is a usage error.
    r = host.run({"restore", "postgres", "latest", "--target-dir", "/tmp/x", "--create"});
    CHECK(r.status == 2);
  }
}

TEST_CASE("point-in-time recovery: exactly batch A; --latest: A and B; a WAL gap fails verify",
          "[postgres][pitr]") {
  if (skip()) return;
  Host host;
  PgCluster pg({{"archive_mode = on", host.archive_command()}});
  host.configure(pg.port(), pg.password());
  pg.sql("CREATE TABLE events(id serial, batch text, at timestamptz DEFAULT clock_timestamp())");
  auto base = host.backup({"--type", "full"});

  pg.sql("INSERT INTO events(batch) SELECT 'A' FROM generate_series(1, 1000)");
  auto noted = pg.time_between_commits();
  pg.sql("INSERT INTO events(batch) SELECT 'B' FROM generate_series(1, 700)");
  wait_archived(pg);

  auto count = [](const Restored& r) {
    return r.sql("SELECT batch || ':' || count(*) FROM events GROUP BY batch ORDER BY batch");
  };
  SECTION("to the noted time, base backup chosen automatically") {
    Restored r{host.dir.path() / "pitr", pg.socket_dir(), bkp::test::free_tcp_port()};
    auto t = std::chrono::steady_clock::now();
    auto rep = restore(host, {"--target-dir", r.dir.string(), "--to-time", noted, "--start",
                              "--port", std::to_string(r.port)});
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
    CHECK(rep["snapshot"] == base["snapshot"]);
    CHECK(rep["recovery_target"] == "time");
    CHECK(rep["wal_files"].get<int>() >= 1);
    std::printf(
        "pitr: restore to a time with --start took %.2f s (bkp: %.2f s laying down, "
        "%.2f s recovery, %d WAL files)\n",
        took, rep["seconds_restore"].get<double>(), rep["seconds_recovery"].get<double>(),
        rep["wal_files"].get<int>());
    CHECK(count(r) == "A:1000");
    CHECK(r.sql("SELECT pg_is_in_recovery()") == "f");
    // The whole restore is one recovery job, with its target and steps.
    auto cat = bkp::catalog::Catalog::open(host.dir.path() / "catalog.db");
    REQUIRE(cat.ok());
    auto jobs = cat->list_recovery_jobs();
    REQUIRE(jobs.ok());
    auto job = std::find_if(jobs->begin(), jobs->end(),
                            [&](auto& j) { return j.id == rep["job"].get<std::string>(); });
    REQUIRE(job != jobs->end());
    CHECK(job->status == "completed");
    CHECK(job->progress == 100);
    CHECK(job->point_in_time == noted);
    CHECK(job->backup_id == base["snapshot"]);
    CHECK(job->steps.find("promoted") != std::string::npos);
  }
  SECTION("--latest: both batches") {
    Restored r{host.dir.path() / "latest", pg.socket_dir(), bkp::test::free_tcp_port()};
    restore(host, {"latest", "--target-dir", r.dir.string(), "--latest", "--start", "--port",
                   std::to_string(r.port)});
    CHECK(count(r) == "A:1000\nB:700");
  }
  SECTION("a time before any base backup: no base backup to choose") {
    auto r = host.run({"restore", "postgres", "--target-dir", (host.dir.path() / "none").string(),
                       "--to-time", "2001-01-01T00:00:00Z"});
    CHECK(r.status != 0);
    CHECK(r.err.find("no physical PostgreSQL backup was complete before") != std::string::npos);
  }
  SECTION("one archived segment deleted: verify names it and exits 13") {
    auto v = host.run({"verify"});
    INFO(v.err);
    REQUIRE(v.status == 0);
    // One more segment, so that one between the base backup's and the
    // newest can go.
    pg.sql("INSERT INTO events(batch) SELECT 'C' FROM generate_series(1, 10)");
    wait_archived(pg);
    // A segment after the base backup's own, before the newest.
    std::vector<std::string> names;
    for (auto& e : fs::directory_iterator(host.dir.path() / "repo" / "wal" / "00000001"))
      if (e.path().filename().string().size() == 24) names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    REQUIRE(names.size() >= 3);
    std::string victim = names[names.size() - 2];
    REQUIRE(victim > base["extra"]["wal_stop"].get<std::string>());
    fs::remove(host.dir.path() / "repo" / "wal" / "00000001" / victim);
    v = host.run({"verify"});
    CHECK(v.status == 13);
    CHECK(v.err.find(victim) != std::string::npos);
    CHECK(v.err.find("WAL archive gap") != std::string::npos);
  }
}

TEST_CASE("physical backup: a wrong password or a server that is down leaves no snapshot",
          "[postgres][pitr]") {
  if (skip()) return;
  Host host;
  PgCluster pg({{"archive_mode = on", host.archive_command()}});
  host.configure(pg.port(), "not-the-password");
  auto r = host.run({"backup", "postgres", "--mode", "physical"});
  CHECK(r.status == 1);
  CHECK(r.err.find("password authentication failed") != std::string::npos);
  CHECK(host.snapshots() == 0);

  host.configure(pg.port(), pg.password());
  pg.stop();
  r = host.run({"backup", "postgres", "--mode", "physical"});
  CHECK(r.status == 1);
  CHECK(r.err.find("connecting to postgres at '127.0.0.1:" + std::to_string(pg.port())) !=
        std::string::npos);
  CHECK(host.snapshots() == 0);

  // archive_mode off: refused before anything is read.
  PgCluster plain;
  host.configure(plain.port(), plain.password());
  r = host.run({"backup", "postgres", "--mode", "physical"});
  CHECK(r.status == 2);
  CHECK(r.err.find("archive_mode is off") != std::string::npos);
  CHECK(host.snapshots() == 0);
}

TEST_CASE("a tablespace outside the data directory is backed up and restored",
          "[postgres][pitr][tablespace]") {
  if (skip()) return;
  Host host;
  PgCluster pg({{"archive_mode = on", host.archive_command()}});
  host.configure(pg.port(), pg.password());
  const auto space = host.dir.path() / "space";
  fs::create_directory(space);
  PgCluster::give_to_postgres(space);
  pg.sql("CREATE TABLESPACE outside LOCATION '" + space.string() + "'");
  pg.sql("CREATE TABLE far(id int PRIMARY KEY, body text) TABLESPACE outside");
  pg.sql("INSERT INTO far SELECT g, md5(g::text) FROM generate_series(1, 5000) g");
  pg.sql("CREATE TABLE near AS SELECT g AS n FROM generate_series(1, 100) g");
  const auto oid = pg.sql("SELECT oid FROM pg_tablespace WHERE spcname = 'outside'");

  // Also the physical path of --limit-rate and --io-nice.
  auto full = host.backup({"--type", "full", "--limit-rate", "200M", "--io-nice", "idle"});
  const auto& ts = full["extra"]["tablespaces"];
  REQUIRE(ts.size() == 1);
  CHECK(ts[0]["name"] == "outside");
  CHECK(ts[0]["oid"] == oid);
  CHECK(ts[0]["location"] == fs::canonical(space).string());
  auto ls = host.run({"ls", full["snapshot"], fs::canonical(space).string()});
  CHECK(ls.out.find("PG_15_") != std::string::npos);
  // Written after the backup, into the tablespace: replayed from the WAL.
  pg.sql("INSERT INTO far VALUES (5001, 'after')");
  wait_archived(pg);
  const auto expected = fingerprint([&](const std::string& q) { return pg.sql(q); });
  CHECK(expected.find("far: 5001 ") != std::string::npos);
  const auto location_sql =
      "SELECT pg_tablespace_location(oid) FROM pg_tablespace WHERE spcname = 'outside'";

  SECTION("by default into the target directory") {
    Restored r{host.dir.path() / "restored", pg.socket_dir(), bkp::test::free_tcp_port()};
    auto rep = restore(host, {full["snapshot"], "--target-dir", r.dir.string(), "--latest",
                              "--start", "--port", std::to_string(r.port)});
    const auto placed = r.dir / "bkp_tablespaces" / oid;
    REQUIRE(rep["tablespaces"].size() == 1);
    CHECK(rep["tablespaces"][0]["restored_to"] == placed.string());
    CHECK(fs::read_symlink(r.dir / "pg_tblspc" / oid) == placed);
    CHECK(r.sql(location_sql) == placed.string());
    CHECK(fingerprint([&](const std::string& q) { return r.sql(q); }) == expected);
    // The original's tablespace is the original's still.
    CHECK(pg.sql("SELECT count(*) FROM far") == "5001");
    CHECK(pg.sql(location_sql) == space.string());
  }
  SECTION("--tablespace-map OLD=NEW, by directory or by name") {
    const auto moved = host.dir.path() / "elsewhere" / "space";
    const std::string old = GENERATE(std::string("dir"), std::string("name"));
    Restored r{host.dir.path() / "restored", pg.socket_dir(), bkp::test::free_tcp_port()};
    auto rep = restore(
        host, {full["snapshot"], "--target-dir", r.dir.string(), "--latest", "--tablespace-map",
               (old == "dir" ? space.string() : "outside") + "=" + moved.string(), "--start",
               "--port", std::to_string(r.port)});
    CHECK(fs::read_symlink(r.dir / "pg_tblspc" / oid) == moved);
    CHECK(r.sql(location_sql) == moved.string());
    CHECK(fingerprint([&](const std::string& q) { return r.sql(q); }) == expected);
    CHECK(!fs::exists(r.dir / "bkp_tablespaces"));
  }
  SECTION("a mapping naming no tablespace, or a place not empty: refused, nothing laid down") {
    const auto target = host.dir.path() / "refused";
    auto r = host.run({"restore", "postgres", full["snapshot"], "--target-dir", target.string(),
                       "--tablespace-map", "/nowhere=" + (host.dir.path() / "x").string()});
    CHECK(r.status == 2);
    CHECK(r.err.find("'/nowhere' is no tablespace") != std::string::npos);
    CHECK(r.err.find("outside (") != std::string::npos);
    r = host.run({"restore", "postgres", full["snapshot"], "--target-dir", target.string(),
                  "--tablespace-map", "outside=relative/dir"});
    CHECK(r.status == 2);
    CHECK(r.err.find("absolute") != std::string::npos);
    r = host.run({"restore", "postgres", full["snapshot"], "--target-dir", target.string(),
                  "--tablespace-map", "outside=" + space.string()});
    CHECK(r.status == 1);
    CHECK(r.err.find("is not an empty directory") != std::string::npos);
    CHECK(!fs::exists(target));
    r = host.run({"restore", "postgres", full["snapshot"], "--tablespace-map", "a=/b"});
    CHECK(r.status == 2);
  }
}

TEST_CASE("prune removes the WAL only forgotten base backups needed; PITR from the rest works",
          "[postgres][pitr][prune]") {
  if (skip()) return;
  Host host;
  PgCluster pg({{"archive_mode = on", host.archive_command()}});
  host.configure(pg.port(), pg.password());
  pg.sql("CREATE TABLE events(id serial, batch text)");
  auto first = host.backup({"--type", "full"});
  pg.sql("INSERT INTO events(batch) SELECT 'A' FROM generate_series(1, 500)");
  wait_archived(pg);
  auto second = host.backup({"--type", "full"});
  pg.sql("INSERT INTO events(batch) SELECT 'B' FROM generate_series(1, 300)");
  wait_archived(pg);
  auto noted = pg.time_between_commits();
  pg.sql("INSERT INTO events(batch) SELECT 'C' FROM generate_series(1, 100)");
  wait_archived(pg);

  const auto wal_dir = host.dir.path() / "repo" / "wal" / "00000001";
  auto archived = [&] {
    std::set<std::string> names;
    for (auto& e : fs::directory_iterator(wal_dir)) names.insert(e.path().filename());
    return names;
  };
  const auto keep_from = second["extra"]["wal_start"].get<std::string>();
  const auto before = archived();
  std::set<std::string> old_segments;
  for (auto& n : before)
    if (n.size() == 24 && n < keep_from) old_segments.insert("wal/00000001/" + n);
  REQUIRE(old_segments.size() >= 1);

  auto run_json = [&](std::vector<std::string> args) {
    args.insert(args.begin(), "--json");
    auto r = host.run(args);
    INFO(r.err);
    REQUIRE(r.status == 0);
    return json::parse(r.out);
  };
  REQUIRE(host.run({"forget", first["snapshot"]}).status == 0);
  // Phase 1: the segments before the kept base backup's start are marked.
  auto dry = run_json({"prune", "--dry-run"});
  auto marked = run_json({"prune"});
  for (auto* plan : {&dry, &marked}) {
    auto names = (*plan)["wal_marked"].get<std::vector<std::string>>();
    CHECK(std::set<std::string>(names.begin(), names.end()) == old_segments);
    CHECK((*plan)["wal_deleted"].empty());
  }
  CHECK(marked["wal_bytes_marked"].get<std::uint64_t>() > 0);
  CHECK(archived() == before);
  // Phase 2 (no grace): they go; the kept backup's WAL and the backup
  // history files stay.
  auto deleted = run_json({"prune", "--grace", "0"});
  auto names = deleted["wal_deleted"].get<std::vector<std::string>>();
  CHECK(std::set<std::string>(names.begin(), names.end()) == old_segments);
  auto after = archived();
  for (auto& n : before) {
    INFO(n);
    bool gone = n.size() == 24 && n < keep_from;
    CHECK(after.count(n) == (gone ? 0u : 1u));
  }
  CHECK(after.count(keep_from) == 1);
  auto v = host.run({"--json", "verify", "--read-data"});
  INFO(v.err);
  CHECK(v.status == 0);

  // Recovery from the remaining base backup to a time after it.
  Restored r{host.dir.path() / "pitr", pg.socket_dir(), bkp::test::free_tcp_port()};
  auto rep = restore(host, {"--target-dir", r.dir.string(), "--to-time", noted, "--start", "--port",
                            std::to_string(r.port)});
  CHECK(rep["snapshot"] == second["snapshot"]);
  CHECK(r.sql("SELECT batch || ':' || count(*) FROM events GROUP BY batch ORDER BY batch") ==
        "A:500\nB:300");
}
