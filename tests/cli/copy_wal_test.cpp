// The WAL archive travels with copies: a real PostgreSQL 15 archives into
// repository A (archive_command wal-push) with a replica R configured, so
// every segment reaches R too; bkp copy then sends A's snapshots and WAL to
// a third repository C, and with A moved away a point-in-time recovery from
// C alone (and verify on C and R) works.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <set>
#include <thread>

#include "cli_helpers.hpp"
#include "pg_cluster.hpp"

namespace fs = std::filesystem;
using bkp::test::PgCluster;
using bkp::test::run_as_postgres;
using nlohmann::json;

namespace {

void write(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::trunc | std::ios::binary) << text;
  PgCluster::give_to_postgres(p);
}

bool skip() {
  auto why = PgCluster::skip_reason();
  if (why.empty()) {
    auto r = run_as_postgres({std::getenv("BKP_BINARY"), "version"});
    if (r.status == 0) return false;
    why = "the postgres user cannot run " + std::string(std::getenv("BKP_BINARY"));
  }
  std::printf("BKP-SKIP: %s\n", why.c_str());
  return true;
}

// Repositories A (primary, replica R) and C, each with a key file; the
// catalogs of sides opened without one of these configurations go under
// state/ (XDG_STATE_HOME), never into the postgres user's home.
struct Site {
  bkp::test::TempDir tmp;
  fs::path dir = tmp.path();
  std::string bkp = std::getenv("BKP_BINARY");
  std::string state = (dir / "state").string();
  fs::path conf_a = dir / "a.toml", conf_c = dir / "c.toml";
  Site() {
    PgCluster::give_to_postgres(dir);
    write(conf_a, "repository = \"" + path("a") + "\"\nkey_file = \"" + path("key-a") +
                      "\"\ncatalog = \"" + path("a.db") + "\"\nreplicas = [\"" + path("r") +
                      "\"]\n[replica]\nkey_file = \"" + path("key-r") + "\"\n");
    write(conf_c, "repository = \"" + path("c") + "\"\nkey_file = \"" + path("key-c") +
                      "\"\ncatalog = \"" + path("c.db") + "\"\n");
    for (auto* conf : {&conf_a, &conf_c}) {
      auto r = run(*conf, {"init", "--generate-key-file"});
      INFO(r.err);
      REQUIRE(r.status == 0);
    }
    auto r = run_as_postgres(
        {bkp, "init", path("r"), "--key-file", path("key-r"), "--generate-key-file"},
        {{"XDG_STATE_HOME", state}});
    INFO(r.err);
    REQUIRE(r.status == 0);
  }
  std::string path(const std::string& rel) const { return (dir / rel).string(); }
  bkp::test::AsPostgres run(const fs::path& conf, std::vector<std::string> args) const {
    args.insert(args.begin(), {bkp, "--config", conf.string()});
    return run_as_postgres(args, {{"XDG_STATE_HOME", state}});
  }
  std::string archive_command() const {
    return "archive_command = 'env XDG_STATE_HOME=" + state + " " + bkp + " --config " +
           conf_a.string() + " wal-push %p'";
  }
  std::set<std::string> wal_files(const std::string& repo) const {
    std::set<std::string> out;
    if (!fs::exists(dir / repo / "wal")) return out;
    for (auto& e : fs::recursive_directory_iterator(dir / repo / "wal"))
      if (e.is_regular_file()) out.insert(e.path().filename().string());
    return out;
  }
};

void wait_archived(const PgCluster& pg) {
  auto segment = pg.sql("SELECT pg_walfile_name(pg_switch_wal())");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pg.sql("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver") >= segment) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  FAIL("segment " << segment << " was not archived");
}

// Stops a server restored with --start, however the test ends.
struct Stopper {
  fs::path dir;
  ~Stopper() {
    if (fs::exists(dir / "postmaster.pid"))
      run_as_postgres({(PgCluster::bin_dir() / "pg_ctl").string(), "-D", dir.string(), "-m",
                       "immediate", "-w", "stop"});
  }
};

json last_line(const std::string& out) {
  auto last = out.rfind('\n', out.size() - 2);
  return json::parse(last == std::string::npos ? out : out.substr(last + 1));
}

}  // namespace

TEST_CASE("copy and replicas carry the WAL archive: PITR from the copy alone",
          "[postgres][pitr][copy][replicas]") {
  if (skip()) return;
  Site site;
  PgCluster pg({{"archive_mode = on", site.archive_command()}});
  write(site.conf_a, bkp::test::read(site.conf_a) + "[postgres]\nhost = \"127.0.0.1\"\n" +
                         "user = \"postgres\"\nport = " + std::to_string(pg.port()) +
                         "\npassword_file = \"" + site.path("pgpass") + "\"\n");
  write(site.dir / "pgpass", pg.password() + "\n");
  fs::permissions(site.dir / "pgpass", fs::perms::owner_read | fs::perms::owner_write);
  pg.sql("CREATE TABLE events(id serial, batch text, at timestamptz DEFAULT clock_timestamp())");
  auto b = site.run(site.conf_a, {"--json", "backup", "postgres", "--mode", "physical"});
  INFO(b.err);
  REQUIRE(b.status == 0);
  auto lines = b.out;
  auto base = json::parse(lines.substr(0, lines.find('\n')));
  // The backup's replica run sent the snapshot and the WAL archived so far.
  auto replica = last_line(b.out);
  CHECK(replica["type"] == "replica");
  CHECK(replica["ok"] == true);
  CHECK(replica["copied"] == 1);

  pg.sql("INSERT INTO events(batch) SELECT 'A' FROM generate_series(1, 1000)");
  auto noted = pg.time_between_commits();
  pg.sql("INSERT INTO events(batch) SELECT 'B' FROM generate_series(1, 700)");
  wait_archived(pg);

  // wal-push archived every file in the replica too.
  auto in_a = site.wal_files("a");
  REQUIRE(in_a.size() >= 3);
  CHECK(site.wal_files("r") == in_a);
  auto v = site.run(site.conf_a, {"verify", "--replicas"});
  INFO(v.err);
  CHECK(v.status == 0);

  const std::vector<std::string> to_c{"copy", "--to", site.path("c"), "--to-key-file",
                                      site.path("key-c")};
  auto copy = [&](std::vector<std::string> extra) {
    std::vector<std::string> args{"--json"};
    args.insert(args.end(), to_c.begin(), to_c.end());
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = site.run(site.conf_a, args);
    INFO(r.err);
    REQUIRE(r.status == 0);
    return last_line(r.out);
  };
  auto j = copy({"--no-wal", "--dry-run"});
  CHECK(j["would_copy"] == 1);
  CHECK(j["wal_would_copy"] == 0);
  j = copy({"--dry-run"});
  const auto would = j["wal_would_copy"].get<std::size_t>();
  CHECK(would >= 2);
  CHECK(site.wal_files("c").empty());
  j = copy({});
  CHECK(j["copied"] == 1);
  CHECK(j["wal_copied"] == would);
  CHECK(j["wal_bytes"].get<std::uint64_t>() >= 16u << 20);
  auto in_c = site.wal_files("c");
  CHECK(in_c.size() == would);
  // Everything from the base backup's start segment on is there.
  const std::string start = base["extra"]["wal_start"];
  for (auto& f : in_a)
    if (f.substr(0, 24) >= start) CHECK(in_c.count(f) == 1);
  // Again: nothing to send.
  j = copy({});
  CHECK(j["copied"] == 0);
  CHECK(j["wal_copied"] == 0);
  CHECK(j["wal_present"] == would);

  // From here on C stands alone.
  fs::rename(site.dir / "a", site.dir / "a-gone");
  v = site.run(site.conf_c, {"verify"});
  INFO(v.err);
  CHECK(v.status == 0);
  fs::path target = site.dir / "restored";
  Stopper stopper{target};
  int port = bkp::test::free_tcp_port();
  auto r = site.run(site.conf_c, {"--json", "restore", "postgres", "--target-dir", target.string(),
                                  "--to-time", noted, "--start", "--port", std::to_string(port)});
  INFO(r.err);
  REQUIRE(r.status == 0);
  auto rep = last_line(r.out);
  CHECK(rep["snapshot"] == base["snapshot"]);
  CHECK(rep["wal_files"].get<int>() >= 1);
  CHECK(PgCluster::sql_at(pg.socket_dir(), port,
                          "SELECT batch || ':' || count(*) FROM events GROUP BY batch") ==
        "A:1000");
}
