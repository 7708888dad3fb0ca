// A throw-away PostgreSQL 15 cluster for tests: initdb as the postgres user
// into a temporary directory, a free TCP port on 127.0.0.1, the Unix socket
// in the same directory, fsync off; started by the constructor, stopped by
// pg_ctl in the destructor. Tests for logical, physical and PITR backups
// share it. PgCluster::skip_reason() says why one cannot run here (no
// binaries, no postgres user); callers print "BKP-SKIP: ..." and return.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "test_tmpdir.hpp"

namespace bkp::test {

struct PgClusterOptions {
  // Lines appended to postgresql.conf (archive_command, ...).
  std::vector<std::string> conf;
  // Password of the "postgres" superuser over TCP (scram-sha-256); the Unix
  // socket stays trust, which is how the test itself talks to the server.
  std::string password = "pg-secret";
};

class PgCluster {
 public:
  static std::filesystem::path bin_dir();
  // Empty when a cluster can be made here.
  static std::string skip_reason();

  explicit PgCluster(PgClusterOptions options = {});
  ~PgCluster();
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  // A directory owned by postgres (the cluster's parent, also for
  // repositories and configuration the server must read).
  const std::filesystem::path& dir() const { return dir_.path(); }
  std::filesystem::path data_dir() const { return dir() / "data"; }
  std::string socket_dir() const { return dir().string(); }
  int port() const { return port_; }
  const std::string& password() const { return options_.password; }
  bool running() const { return running_; }

  void start();
  void stop();
  // Runs SQL over the socket as postgres; throws with psql's message on
  // failure. Returns the unaligned, tuples-only output, trailing newline cut.
  std::string sql(const std::string& query, const std::string& database = "postgres") const;
  // The same, against any server listening on `socket_dir` and `port` (a
  // restored copy).
  static std::string sql_at(const std::string& socket_dir, int port, const std::string& query,
                            const std::string& database = "postgres");
  // The server's clock (UTC, RFC 3339 with microseconds) read 200 ms after
  // the commits before and 200 ms before the ones after: a recovery target
  // strictly between two batches of rows.
  std::string time_between_commits() const;
  // Gives a path (recursively) to the postgres user.
  static void give_to_postgres(const std::filesystem::path& path);

 private:
  PgClusterOptions options_;
  TempDir dir_;
  int port_ = 0;
  bool running_ = false;
};

// A TCP port on 127.0.0.1 that nothing listens on right now.
int free_tcp_port();

// Runs argv as the postgres user (runuser), with extra environment.
struct AsPostgres {
  int status = -1;
  std::string out, err;
};
AsPostgres run_as_postgres(const std::vector<std::string>& argv,
                           const std::vector<std::pair<std::string, std::string>>& env = {});

}  // namespace bkp::test
