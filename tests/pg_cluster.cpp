#include "pg_cluster.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "util/subprocess.hpp"

namespace bkp::test {

int free_tcp_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("no free port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

namespace {

void check(const AsPostgres& r, const std::string& what) {
  if (r.status != 0) throw std::runtime_error(what + " failed: " + r.err + r.out);
}

}  // namespace

std::filesystem::path PgCluster::bin_dir() { return "/usr/lib/postgresql/15/bin"; }

std::string PgCluster::skip_reason() {
  if (!std::filesystem::exists(bin_dir() / "initdb"))
    return "PostgreSQL 15 binaries not found in " + bin_dir().string();
  if (!::getpwnam("postgres")) return "no postgres user";
  if (::geteuid() != 0) return "not root, cannot run the server as postgres";
  return {};
}

AsPostgres run_as_postgres(const std::vector<std::string>& argv,
                           const std::vector<std::pair<std::string, std::string>>& env) {
  // In a coverage build, bkp run as postgres (directly or as the server's
  // archive_command) cannot write the root-owned .gcda files and says so on
  // stderr ("profiling: ...: Cannot open"). tools/test opens the build
  // directory to it and says so with BKP_TEST_GCDA_SHARED; run alone, the
  // counts go elsewhere.
  const char* shared = std::getenv("BKP_TEST_GCDA_SHARED");
  std::vector<std::string> full{"runuser", "-u", "postgres", "--", "env"};
  if (!shared || std::string(shared) != "1") full.push_back("GCOV_PREFIX=/tmp/bkp-gcov-postgres");
  for (auto& [k, v] : env) full.push_back(k + "=" + v);
  full.insert(full.end(), argv.begin(), argv.end());
  util::SpawnOptions opts;
  opts.cwd = "/";
  auto r = util::run_capture(full, opts);
  if (!r) throw std::runtime_error(r.error().message);
  return AsPostgres{r->status, r->out, r->err};
}

void PgCluster::give_to_postgres(const std::filesystem::path& path) {
  auto* pw = ::getpwnam("postgres");
  if (!pw) throw std::runtime_error("no postgres user");
  auto own = [&](const std::filesystem::path& p) {
    if (::lchown(p.c_str(), pw->pw_uid, pw->pw_gid) != 0)
      throw std::runtime_error("chown " + p.string() + " failed");
  };
  own(path);
  if (std::filesystem::is_directory(path))
    for (auto& e : std::filesystem::recursive_directory_iterator(path)) own(e.path());
}

PgCluster::PgCluster(PgClusterOptions options) : options_(std::move(options)) {
  give_to_postgres(dir());
  check(run_as_postgres({(bin_dir() / "initdb").string(), "-D", data_dir().string(), "-U",
                         "postgres", "-A", "trust", "--no-sync", "--no-instructions"}),
        "initdb");
  port_ = free_tcp_port();
  {
    std::ofstream conf(data_dir() / "postgresql.conf", std::ios::app);
    conf << "listen_addresses = '127.0.0.1'\n"
         << "port = " << port_ << "\n"
         << "unix_socket_directories = '" << socket_dir() << "'\n"
         << "fsync = off\nsynchronous_commit = off\n"
         << "wal_level = replica\nmax_wal_senders = 4\n";
    for (auto& line : options_.conf) conf << line << "\n";
    std::ofstream hba(data_dir() / "pg_hba.conf", std::ios::trunc);
    hba << "local all all trust\nlocal replication all trust\n"
        << "host all all 127.0.0.1/32 scram-sha-256\n"
        << "host replication all 127.0.0.1/32 scram-sha-256\n";
  }
  start();
  std::string pw = options_.password;
  sql("ALTER USER postgres PASSWORD '" + pw + "'");
}

PgCluster::~PgCluster() {
  try {
    stop();
  } catch (...) {
    // A destructor must not throw; the temporary directory goes anyway.
  }
}

void PgCluster::start() {
  if (running_) return;
  check(run_as_postgres({(bin_dir() / "pg_ctl").string(), "-D", data_dir().string(), "-l",
                         (dir() / "server.log").string(), "-w", "-t", "30", "start"}),
        "pg_ctl start");
  running_ = true;
}

void PgCluster::stop() {
  if (!running_) return;
  running_ = false;
  check(run_as_postgres({(bin_dir() / "pg_ctl").string(), "-D", data_dir().string(), "-m", "fast",
                         "-w", "-t", "30", "stop"}),
        "pg_ctl stop");
}

std::string PgCluster::sql(const std::string& query, const std::string& database) const {
  return sql_at(socket_dir(), port_, query, database);
}

std::string PgCluster::time_between_commits() const {
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::string now =
      sql("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', "
          "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  return now;
}

std::string PgCluster::sql_at(const std::string& socket_dir, int port, const std::string& query,
                              const std::string& database) {
  util::SpawnOptions opts;
  auto r = util::run_capture(
      {(bin_dir() / "psql").string(), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h",
       socket_dir, "-p", std::to_string(port), "-U", "postgres", "-d", database, "-c", query},
      opts);
  if (!r) throw std::runtime_error(r.error().message);
  if (r->status != 0) throw std::runtime_error("psql: " + query + ": " + r->err);
  auto out = r->out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace bkp::test
