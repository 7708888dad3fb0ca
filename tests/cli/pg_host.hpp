// What the PostgreSQL physical-backup tests share (pitr_test.cpp,
// pg_replication_test.cpp): a bkp configuration owned by postgres, as on a
// database host, restored servers stopped by the test, and comparisons of
// servers table by table.
#pragma once

#include <sys/stat.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "pg_cluster.hpp"

namespace bkp::test::pghost {

namespace fs = std::filesystem;
using bkp::test::PgCluster;
using bkp::test::run_as_postgres;
using nlohmann::json;

inline void write(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::trunc | std::ios::binary) << text;
}

// Repository, key file, catalog and configuration owned by postgres, as on
// a database host; the configuration also says how to reach the server
// (TCP with a password from a 0600 file).
struct Host {
  bkp::test::TempDir dir;
  fs::path conf = dir.path() / "bkp.toml";
  std::string bkp = std::getenv("BKP_BINARY");
  Host() {
    PgCluster::give_to_postgres(dir.path());
    configure(0, "pg-secret");
    auto r = run({"init", "--generate-key-file"});
    INFO(r.err);
    REQUIRE(r.status == 0);
  }
  void configure(int port, const std::string& password, const std::string& user = "postgres") {
    write(dir.path() / "pgpass", password + "\n");
    ::chmod((dir.path() / "pgpass").c_str(), 0600);
    write(conf, "repository = \"" + (dir.path() / "repo").string() + "\"\nkey_file = \"" +
                    (dir.path() / "key").string() + "\"\ncatalog = \"" +
                    (dir.path() / "catalog.db").string() +
                    "\"\n[postgres]\nhost = \"127.0.0.1\"\nuser = \"" + user +
                    "\"\nport = " + std::to_string(port) + "\npassword_file = \"" +
                    (dir.path() / "pgpass").string() + "\"\n");
    PgCluster::give_to_postgres(conf);
    PgCluster::give_to_postgres(dir.path() / "pgpass");
  }
  bkp::test::AsPostgres run(std::vector<std::string> args) const {
    args.insert(args.begin(), {bkp, "--config", conf.string()});
    return run_as_postgres(args);
  }
  std::string archive_command() const {
    return "archive_command = '" + bkp + " --config " + conf.string() + " wal-push %p'";
  }
  json backup(const std::vector<std::string>& extra = {}) const {
    std::vector<std::string> args{"--json", "backup", "postgres", "--mode", "physical"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = run(args);
    INFO(r.err);
    REQUIRE(r.status == 0);
    return json::parse(r.out);
  }
  std::size_t snapshots() const {
    auto r = run({"--json", "snapshots"});
    REQUIRE(r.status == 0);
    std::size_t n = 0;
    for (char c : r.out) n += c == '\n';
    return n;
  }
};

// A server restored with --start, stopped by the test when done.
struct Restored {
  fs::path dir;
  std::string socket_dir;
  int port;
  ~Restored() {
    if (fs::exists(dir / "postmaster.pid"))
      run_as_postgres({(PgCluster::bin_dir() / "pg_ctl").string(), "-D", dir.string(), "-m",
                       "immediate", "-w", "stop"});
  }
  std::string sql(const std::string& q) const { return PgCluster::sql_at(socket_dir, port, q); }
};

inline bool skip() {
  auto why = PgCluster::skip_reason();
  if (why.empty()) {
    auto r = run_as_postgres({std::getenv("BKP_BINARY"), "version"});
    if (r.status == 0) return false;
    why = "the postgres user cannot run " + std::string(std::getenv("BKP_BINARY"));
  }
  std::printf("BKP-SKIP: %s\n", why.c_str());
  return true;
}

// Every user table with its row count and an MD5 over its rows in order.
inline std::string fingerprint(const std::function<std::string(const std::string&)>& sql) {
  std::string out;
  auto tables = sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1");
  std::istringstream in(tables);
  for (std::string t; std::getline(in, t);) {
    out += t + ": " +
           sql("SELECT count(*) || ' ' || coalesce(md5(string_agg(x::text, ',' ORDER BY "
               "x::text)), '') FROM " +
               t + " x") +
           "\n";
  }
  return out;
}

inline void wait_archived(const PgCluster& pg) {
  auto segment = pg.sql("SELECT pg_walfile_name(pg_switch_wal())");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pg.sql("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver") >= segment) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  FAIL("segment " << segment << " was not archived");
}

inline json restore(const Host& host, std::vector<std::string> args) {
  args.insert(args.begin(), {"--json", "restore", "postgres"});
  auto r = host.run(args);
  INFO(r.err);
  REQUIRE(r.status == 0);
  // Progress lines first, the report last.
  auto last = r.out.rfind('\n', r.out.size() - 2);
  return json::parse(last == std::string::npos ? r.out : r.out.substr(last + 1));
}

}  // namespace bkp::test::pghost
