// WAL archiving against a real PostgreSQL 15: archive_command runs
// `bkp --config FILE wal-push %p` as the postgres user; every archived
// segment comes back byte for byte through wal-fetch.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <thread>

#include "pg_cluster.hpp"
#include "util/fs.hpp"

namespace fs = std::filesystem;
using bkp::test::PgCluster;
using bkp::test::run_as_postgres;

namespace {

void write(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::trunc | std::ios::binary) << text;
}

// The repository and its configuration, owned by postgres, as they would be
// on a database host.
struct Archive {
  bkp::test::TempDir dir;
  fs::path conf = dir.path() / "bkp.toml";
  std::string bkp = std::getenv("BKP_BINARY");
  Archive() {
    PgCluster::give_to_postgres(dir.path());
    write(conf, "repository = \"" + (dir.path() / "repo").string() + "\"\nkey_file = \"" +
                    (dir.path() / "key").string() + "\"\ncatalog = \"" +
                    (dir.path() / "catalog.db").string() + "\"\n");
    PgCluster::give_to_postgres(conf);
    auto r = run({"init", "--generate-key-file"});
    INFO(r.err);
    REQUIRE(r.status == 0);
  }
  bkp::test::AsPostgres run(std::vector<std::string> args) const {
    args.insert(args.begin(), {bkp, "--config", conf.string()});
    return run_as_postgres(args);
  }
  std::string archive_command() const {
    return "archive_command = '" + bkp + " --config " + conf.string() + " wal-push %p'";
  }
};

bool skip() {
  auto why = PgCluster::skip_reason();
  if (why.empty()) {
    // The server runs bkp as postgres: the build must be reachable.
    auto r = run_as_postgres({std::getenv("BKP_BINARY"), "version"});
    if (r.status == 0) return false;
    why = "the postgres user cannot run " + std::string(std::getenv("BKP_BINARY"));
  }
  std::printf("BKP-SKIP: %s\n", why.c_str());
  return true;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

TEST_CASE("archive_command wal-push loses no segment and wal-fetch returns each", "[postgres]") {
  if (skip()) return;
  Archive archive;
  PgCluster pg({{"archive_mode = on", archive.archive_command(), "wal_keep_size = '1GB'"}});

  pg.sql("CREATE TABLE t(id bigint, v text)");
  std::vector<std::string> segments;
  for (int i = 0; i < 4; ++i) {
    pg.sql("INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 30000) g");
    segments.push_back(pg.sql("SELECT pg_walfile_name(pg_current_wal_insert_lsn())"));
    pg.sql("SELECT pg_switch_wal()");
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::string last;
  while (std::chrono::steady_clock::now() < deadline) {
    last = pg.sql("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver");
    if (last >= segments.back()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  INFO(pg.sql(
      "SELECT archived_count || ' archived, ' || failed_count || ' failed' FROM pg_stat_archiver"));
  REQUIRE(last >= segments.back());
  CHECK(pg.sql("SELECT failed_count FROM pg_stat_archiver") == "0");

  // Every file the server marked done comes back identical.
  int compared = 0;
  auto out = archive.dir.path() / "fetched";
  fs::create_directories(out);
  PgCluster::give_to_postgres(out);
  for (auto& e : fs::directory_iterator(pg.data_dir() / "pg_wal" / "archive_status")) {
    auto name = e.path().stem().string();
    if (e.path().extension() != ".done") continue;
    auto r = archive.run({"wal-fetch", name, (out / name).string()});
    INFO(name << ": " << r.err);
    REQUIRE(r.status == 0);
    auto a = bkp::util::read_file(out / name);
    auto b = bkp::util::read_file(pg.data_dir() / "pg_wal" / name);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    CHECK(a->size() == 16u << 20);
    CHECK(*a == *b);
    ++compared;
  }
  // Every segment the load wrote to was archived and compared (two loads
  // can share a segment when a switch lands on a boundary).
  std::sort(segments.begin(), segments.end());
  segments.erase(std::unique(segments.begin(), segments.end()), segments.end());
  INFO("segments written: " << segments.size());
  for (auto& s : segments) CHECK(fs::exists(out / s));
  CHECK(compared >= static_cast<int>(segments.size()));
  CHECK(compared >= 3);
  CHECK(pg.sql("SELECT archived_count FROM pg_stat_archiver") == std::to_string(compared));
  CHECK(fs::exists(archive.dir.path() / "repo" / "wal" / "00000001" / segments.front()));

  SECTION("a segment that was never archived: status 1, quickly and quietly") {
    auto t = std::chrono::steady_clock::now();
    auto r = archive.run({"wal-fetch", "0000000100000000000000FF", (out / "x").string()});
    CHECK(r.status == 1);
    CHECK(r.err.empty());
    CHECK(seconds_since(t) < 2);
    CHECK(!fs::exists(out / "x"));
    r = archive.run({"wal-fetch", "00000005.history", (out / "x").string()});
    CHECK(r.status == 1);
    CHECK(r.err.empty());
  }
  SECTION("the same segment again is fine, different content under its name is not") {
    auto copy = out / segments.front();
    auto r = archive.run({"--json", "wal-push", copy.string()});
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(nlohmann::json::parse(r.out)["already_archived"] == true);
    auto bytes = *bkp::util::read_file(copy);
    bytes[12345] ^= 1;
    REQUIRE(bkp::util::write_file_atomic(copy, bytes).ok());
    PgCluster::give_to_postgres(copy);
    r = archive.run({"wal-push", copy.string()});
    CHECK(r.status == 1);
    CHECK(r.err.find("already archived with different content") != std::string::npos);
    // The archived one is untouched.
    r = archive.run({"wal-fetch", segments.front(), (out / "again").string()});
    REQUIRE(r.status == 0);
    CHECK(*bkp::util::read_file(out / "again") ==
          *bkp::util::read_file(pg.data_dir() / "pg_wal" / segments.front()));
  }
  SECTION("history, backup history and partial files; other names are refused") {
    for (std::string name : {"00000002.history", "000000010000000000000002.00000028.backup",
                             "000000010000000000000009.partial"}) {
      INFO(name);
      write(out / name, "1\t0/3000000\tno recovery target specified\n" + name);
      PgCluster::give_to_postgres(out / name);
      auto r = archive.run({"wal-push", (out / name).string()});
      REQUIRE(r.status == 0);
      r = archive.run({"wal-fetch", name, (out / (name + ".back")).string()});
      REQUIRE(r.status == 0);
      CHECK(*bkp::util::read_file(out / (name + ".back")) == *bkp::util::read_file(out / name));
    }
    write(out / "notwal", "x");
    PgCluster::give_to_postgres(out / "notwal");
    auto r = archive.run({"wal-push", (out / "notwal").string()});
    CHECK(r.status == 2);
    r = archive.run({"wal-fetch", "../../config", (out / "y").string()});
    CHECK(r.status == 2);
  }
  SECTION("latency of one 16 MiB segment") {
    // Random data is the worst case (nothing compresses or deduplicates);
    // the times include runuser and the start of bkp.
    bkp::util::Bytes seg(16u << 20);
    std::srand(42);
    for (auto& b : seg) b = static_cast<std::uint8_t>(std::rand());
    double push = 0, fetch = 0;
    const int n = 4;
    for (int i = 0; i < n; ++i) {
      std::string name = "0000000100000000000000E" + std::to_string(i);
      seg[0] = static_cast<std::uint8_t>(i);
      REQUIRE(bkp::util::write_file_atomic(out / name, seg).ok());
      PgCluster::give_to_postgres(out / name);
      auto t = std::chrono::steady_clock::now();
      REQUIRE(archive.run({"wal-push", (out / name).string()}).status == 0);
      push += seconds_since(t);
      t = std::chrono::steady_clock::now();
      REQUIRE(archive.run({"wal-fetch", name, (out / (name + ".f")).string()}).status == 0);
      fetch += seconds_since(t);
    }
    auto real = out / segments.front();
    auto t = std::chrono::steady_clock::now();
    REQUIRE(archive.run({"wal-fetch", segments.front(), (out / "real.f").string()}).status == 0);
    double fetch_real = seconds_since(t);
    std::printf(
        "wal: 16 MiB random segment: wal-push %.0f ms, wal-fetch %.0f ms (mean of %d); "
        "a real segment: wal-fetch %.0f ms\n",
        1000 * push / n, 1000 * fetch / n, n, 1000 * fetch_real);
    CHECK(push / n < 5);
    (void)real;
  }
}

TEST_CASE("wal-fetch as restore_command recovers a base backup to the end of the archive",
          "[postgres]") {
  if (skip()) return;
  Archive archive;
  PgCluster pg({{"archive_mode = on", archive.archive_command()}});
  pg.sql("CREATE TABLE t(id int); INSERT INTO t SELECT generate_series(1, 1000)");
  auto base = archive.dir.path() / "base";
  auto r = run_as_postgres({(PgCluster::bin_dir() / "pg_basebackup").string(), "-h",
                            pg.socket_dir(), "-p", std::to_string(pg.port()), "-U", "postgres",
                            "-D", base.string(), "-X", "none", "-c", "fast"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  // Batch B exists only in archived WAL.
  pg.sql("INSERT INTO t SELECT generate_series(1001, 2000)");
  auto segment = pg.sql("SELECT pg_walfile_name(pg_current_wal_lsn())");
  pg.sql("SELECT pg_switch_wal()");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (pg.sql("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver") < segment &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  REQUIRE(pg.sql("SELECT failed_count FROM pg_stat_archiver") == "0");
  pg.stop();

  // The copy takes the original's port and socket; it must not archive
  // into the original's history.
  {
    std::ofstream conf(base / "postgresql.auto.conf", std::ios::app);
    conf << "archive_mode = off\nrestore_command = '" << archive.bkp << " --config "
         << archive.conf.string() << " wal-fetch %f %p'\n";
  }
  write(base / "recovery.signal", "");
  PgCluster::give_to_postgres(base);
  auto pg_ctl = (PgCluster::bin_dir() / "pg_ctl").string();
  auto started = std::chrono::steady_clock::now();
  r = run_as_postgres({pg_ctl, "-D", base.string(), "-l",
                       (archive.dir.path() / "copy.log").string(), "-w", "-t", "60", "start"});
  INFO(r.err << r.out);
  REQUIRE(r.status == 0);
  struct Stop {
    std::string pg_ctl, dir;
    ~Stop() { run_as_postgres({pg_ctl, "-D", dir, "-m", "fast", "-w", "stop"}); }
  } stop{pg_ctl, base.string()};
  while (pg.sql("SELECT pg_is_in_recovery()") == "t" && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::printf("wal: recovery of a base backup through wal-fetch took %.2f s\n",
              seconds_since(started));
  CHECK(pg.sql("SELECT pg_is_in_recovery()") == "f");
  CHECK(pg.sql("SELECT count(*) || ' ' || max(id) FROM t") == "2000 2000");
}
