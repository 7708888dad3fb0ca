// restore --start: runs the restored server as the data directory's owner
// and follows recovery through files only (postmaster.pid, pg_controldata,
// the server log), so no connection settings are needed for the copy.
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "engine/postgres_pitr.hpp"
#include "util/fs.hpp"
#include "util/interrupt.hpp"
#include "util/subprocess.hpp"

namespace bkp::engine {

namespace fs = std::filesystem;
using util::ErrorKind;
using util::fail;

namespace {

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string tail_lines(const std::string& text, int n) {
  auto pos = text.size();
  while (n-- > 0 && pos > 0) {
    pos = text.rfind('\n', pos - 1);
    if (pos == std::string::npos) return text;
  }
  return text.substr(pos + 1);
}

// pg_ctl and pg_controldata of the data directory's major version.
std::string program(const fs::path& data_dir, const std::string& bin_dir, const std::string& name) {
  if (!bin_dir.empty()) return bin_dir + "/" + name;
  auto version = read_all(data_dir / "PG_VERSION");
  while (!version.empty() && (version.back() == '\n' || version.back() == ' ')) version.pop_back();
  fs::path debian = "/usr/lib/postgresql/" + version + "/bin/" + name;
  std::error_code ec;
  if (!version.empty() && fs::exists(debian, ec)) return debian.string();
  return name;
}

// The server refuses to run as root: as root, run it as the directory's
// owner through runuser; otherwise only the owner can.
util::Result<std::vector<std::string>> as_owner(const fs::path& data_dir) {
  struct stat st {};
  if (::stat(data_dir.c_str(), &st) != 0) return fail(util::errno_error("stat", data_dir, errno));
  if (::geteuid() == st.st_uid) return std::vector<std::string>{};
  if (::geteuid() != 0) {
    return fail(ErrorKind::usage, "'" + data_dir.string() +
                                      "' belongs to another user; --start must run as that user "
                                      "or as root");
  }
  auto* pw = ::getpwuid(st.st_uid);
  if (!pw) return fail(ErrorKind::generic, "the owner of '" + data_dir.string() + "' has no name");
  if (st.st_uid == 0)
    return fail(ErrorKind::usage, "PostgreSQL does not run as root; restore as its user");
  return std::vector<std::string>{"runuser", "-u", pw->pw_name, "--"};
}

// The server keeps the environment it starts with for its whole life and
// hands it to restore_command: none of bkp's own settings (BKP_PASSWORD
// and the like) or the database and storage secrets go there. What
// wal-fetch needs is on its command line and in the configuration file.
std::vector<std::string> variables_not_for_the_server() {
  std::vector<std::string> out{"DB_PASSWORD", "PGPASSWORD", "S3_SECRET_ACCESS_KEY"};
  for (char** e = environ; e && *e; ++e) {
    std::string_view var(*e);
    if (var.starts_with("BKP_")) out.emplace_back(var.substr(0, var.find('=')));
  }
  return out;
}

util::Result<util::Completed> run(std::vector<std::string> prefix,
                                  const std::vector<std::string>& argv) {
  prefix.insert(prefix.end(), argv.begin(), argv.end());
  util::SpawnOptions opts;
  opts.cwd = "/";  // runuser's new user may not enter the current directory
  opts.unset_env = variables_not_for_the_server();
  return util::run_capture(prefix, opts);
}

// "ready" once the postmaster accepts connections; empty when it is gone.
std::string postmaster_status(const fs::path& data_dir) {
  auto text = read_all(data_dir / "postmaster.pid");
  if (text.empty()) return {};
  std::istringstream in(text);
  std::string line, last;
  for (int i = 0; std::getline(in, line); ++i)
    if (i == 7) last = line;
  while (!last.empty() && last.back() == ' ') last.pop_back();
  return last.empty() ? "starting" : last;
}

}  // namespace

util::Status start_and_wait_for_recovery(const fs::path& data_dir,
                                         const PgPhysicalRestoreOptions& options,
                                         PgPhysicalRestoreReport& report,
                                         const PgRecoveryProgressFn& progress) {
  BKP_ASSIGN(auto prefix, as_owner(data_dir));
  auto log = data_dir / "bkp-restore.log";
  report.log_file = log.string();
  auto started = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  BKP_ASSIGN(auto ctl, run(prefix, {program(data_dir, options.bin_dir, "pg_ctl"), "-D",
                                    data_dir.string(), "-l", log.string(), "-W", "start"}));
  if (ctl.status != 0) {
    return fail(ErrorKind::generic, "pg_ctl start " + util::describe_status(ctl.status) + ": " +
                                        ctl.err + tail_lines(read_all(log), 5));
  }
  report.started = true;
  const auto controldata = program(data_dir, options.bin_dir, "pg_controldata");
  std::uint64_t last_count = ~0ull;
  for (bool seen_pid = false;;) {
    // Progress: the WAL files the server fetched so far, from its log.
    auto text = read_all(log);
    std::uint64_t count = 0;
    std::string last;
    const std::string mark = "restored log file \"";
    for (auto pos = text.find(mark); pos != std::string::npos; pos = text.find(mark, pos + 1)) {
      ++count;
      last = text.substr(pos + mark.size(), text.find('"', pos + mark.size()) - pos - mark.size());
    }
    report.wal_files = count;
    if (progress && count != last_count)
      progress(PgRecoveryProgress{"recovery", 0, 0, count, last, elapsed()});
    last_count = count;

    auto status = postmaster_status(data_dir);
    if (!status.empty()) seen_pid = true;
    if (status.empty() && (seen_pid || elapsed() > 10)) {
      return fail(ErrorKind::generic, "the restored server stopped during recovery; its log ('" +
                                          log.string() + "') ends with:\n" + tail_lines(text, 8));
    }
    if (status == "ready") {
      BKP_ASSIGN(auto cd, run(prefix, {controldata, data_dir.string()}));
      if (cd.status == 0 && cd.out.find("in production") != std::string::npos) break;
    }
    if (elapsed() > options.timeout_seconds) {
      return fail(ErrorKind::generic,
                  "recovery did not finish within " + std::to_string(options.timeout_seconds) +
                      " s; the server is still running (log: '" + log.string() + "')");
    }
    if (auto st = util::check_interrupted(); !st) {
      return fail(st.error().context("waiting for recovery; the server is still running (log: '" +
                                     log.string() + "')"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  report.seconds_recovery = elapsed();
  if (progress) progress(PgRecoveryProgress{"done", 0, 0, report.wal_files, {}, elapsed()});
  return {};
}

}  // namespace bkp::engine
