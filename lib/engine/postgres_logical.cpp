#include "engine/postgres_logical.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>

#include "engine/restore.hpp"
#include "util/fs.hpp"

namespace bkp::engine {

namespace pg = sources::postgres;
using util::ErrorKind;
using util::fail;

namespace {

// pg_dump compresses custom-format dumps with zlib by default, which makes
// every byte after a change differ; uncompressed, the chunker finds the
// unchanged tables again and the repository compresses the rest.
CommandStream dump_stream(const pg::Connection& conn, const std::string& database) {
  return CommandStream{
      pg_dump_file_name(database),
      {pg::program(conn, "pg_dump"), "--format=custom", "--compress=0", "--no-password"},
      pg::client_environment(conn, database)};
}

// A libpq connection string naming only the database, so that a name with
// '=' or spaces is never read as other parameters; the rest comes from the
// environment.
std::string dbname_conninfo(const std::string& database) {
  std::string out = "dbname='";
  for (char c : database) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

util::Status run_client(const std::vector<std::string>& argv, util::SpawnOptions spawn) {
  spawn.stdout_mode = util::SpawnOptions::Stdout::null;
  BKP_ASSIGN(auto done, util::run_capture(argv, spawn));
  if (done.status != 0) {
    auto err = done.err;
    while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
    return fail(ErrorKind::generic, argv[0] + " " + util::describe_status(done.status) +
                                        (err.empty() ? "" : ": " + err));
  }
  return {};
}

// Feeds the dump to pg_restore on its standard input.
util::Status restore_piped(repo::Repository& repo, const repo::Snapshot& snap,
                           const std::string& file, std::vector<std::string> argv,
                           util::SpawnOptions spawn) {
  spawn.stdin_mode = util::SpawnOptions::Stdin::pipe;
  spawn.stdout_mode = util::SpawnOptions::Stdout::null;
  spawn.stderr_mode = util::SpawnOptions::Stderr::inherit;
  BKP_ASSIGN(auto child, util::Child::spawn(argv, spawn));
  auto fed = restore_to_stream(repo, snap, "/" + file, child.stdin_fd());
  child.close_stdin();
  BKP_ASSIGN(int status, child.wait());
  // The program stopping early breaks the pipe: its own status says why.
  if (status != 0) {
    auto name = std::filesystem::path(argv[0]).filename().string();
    return fail(ErrorKind::generic, name + " " + util::describe_status(status));
  }
  return fed;
}

// pg_restore --jobs needs a seekable file: a private 0700 directory in
// $TMPDIR holds it for the restore and is removed after, whatever happens.
util::Status restore_from_file(repo::Repository& repo, const repo::Snapshot& snap,
                               const std::string& file, std::vector<std::string> argv,
                               util::SpawnOptions spawn) {
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/bkp-pg-restore-XXXXXX";
  if (!::mkdtemp(templ.data())) return fail(util::errno_error("creating", templ, errno));
  std::filesystem::path dir = templ;
  auto path = dir / "dump";
  auto cleanup = [&] {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  };
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    auto e = util::errno_error("creating", path, errno);
    cleanup();
    return fail(e);
  }
  auto written = restore_to_stream(repo, snap, "/" + file, fd);
  ::close(fd);
  if (!written) {
    cleanup();
    return written;
  }
  argv.push_back(path.string());
  spawn.stderr_mode = util::SpawnOptions::Stderr::inherit;
  auto st = run_client(argv, spawn);
  cleanup();
  return st;
}

}  // namespace

std::string pg_dump_file_name(const std::string& database) {
  std::string out;
  for (char c : database) {
    if (c == '/')
      out += "%2F";
    else if (c == '%')
      out += "%25";
    else
      out += c;
  }
  return out + ".dump";
}

util::Result<BackupReport> backup_postgres_logical(repo::Repository& repo,
                                                   const pg::Connection& conn,
                                                   const PgLogicalBackupOptions& options,
                                                   const ProgressFn& progress) {
  CommandBackupOptions cmd;
  cmd.source_kind = "postgres";
  cmd.tags = options.tags;
  std::vector<std::string> databases;
  pg::Connection admin = conn;
  if (options.scope == PgScope::one_database) {
    auto db = options.database.empty() ? conn.database : options.database;
    if (db.empty()) {
      return fail(ErrorKind::usage,
                  "say which database: --database D, postgres.database (DB_NAME) or "
                  "--all-databases");
    }
    admin.database = db;
    databases.push_back(db);
    cmd.source_name = "postgres:" + db;
  } else {
    if (admin.database.empty()) admin.database = "postgres";
    cmd.source_name = "postgres:(all)";
  }
  // Connecting first turns a wrong password or a server that is down into
  // one clear message before any dump starts.
  BKP_ASSIGN(auto version, pg::server_version(admin));
  if (options.scope == PgScope::all_databases) {
    BKP_ASSIGN(databases, pg::list_databases(admin));
    auto spawn = pg::client_environment(admin);
    cmd.streams.push_back(
        CommandStream{"globals.sql",
                      {pg::program(conn, "pg_dumpall"), "--globals-only", "--no-password"},
                      spawn});
  }
  nlohmann::json dumps = nlohmann::json::array();
  for (auto& db : databases) {
    cmd.streams.push_back(dump_stream(conn, db));
    dumps.push_back({{"database", db}, {"file", pg_dump_file_name(db)}});
  }
  cmd.extra = {{"mode", "logical"},
               {"format", "custom"},
               {"server_version", version},
               {"all_databases", options.scope == PgScope::all_databases},
               {"dumps", dumps}};
  if (options.scope == PgScope::one_database) cmd.extra["database"] = databases.front();
  if (!conn.host.empty()) cmd.extra["host"] = conn.host;
  if (!conn.port.empty()) cmd.extra["port"] = conn.port;
  return backup_commands(repo, cmd, progress);
}

util::Status restore_postgres_globals(repo::Repository& repo, const pg::Connection& conn,
                                      const repo::Snapshot& snap) {
  if (snap.source_kind != "postgres" || !snap.extra.value("all_databases", false)) {
    return fail(ErrorKind::usage, "snapshot " + snap.id.substr(0, 8) +
                                      " has no globals.sql (only --all-databases backups do)");
  }
  // Without ON_ERROR_STOP: roles that exist already (postgres itself) fail
  // one statement each and the rest goes on; psql prints those errors.
  auto st = restore_piped(repo, snap, "globals.sql",
                          {pg::program(conn, "psql"), "-X", "-q", "--no-password", "-f", "-"},
                          pg::client_environment(conn, conn.database.empty() ? "postgres" : ""));
  if (!st) return fail(st.error().kind, "restoring globals: " + st.error().message);
  return {};
}

util::Result<PgRestoreReport> restore_postgres_logical(repo::Repository& repo,
                                                       const pg::Connection& conn,
                                                       const repo::Snapshot& snap,
                                                       const PgLogicalRestoreOptions& options) {
  const auto& extra = snap.extra;
  if (snap.source_kind != "postgres" || extra.value("mode", "") != "logical" ||
      !extra.contains("dumps") || !extra["dumps"].is_array()) {
    return fail(ErrorKind::usage, "snapshot " + snap.id.substr(0, 8) +
                                      " is not a logical PostgreSQL backup (its source is '" +
                                      snap.source_name + "')");
  }
  PgRestoreReport report;
  const auto& dumps = extra["dumps"];
  std::string names;
  for (auto& d : dumps) {
    std::string db = d.value("database", "");
    names += (names.empty() ? "" : ", ") + db;
    if (options.from_database.empty() ? dumps.size() == 1 : db == options.from_database) {
      report.source_database = db;
      report.file = d.value("file", "");
    }
  }
  if (report.file.empty()) {
    return fail(options.from_database.empty() ? ErrorKind::usage : ErrorKind::not_found,
                (options.from_database.empty() ? std::string("say which database to restore")
                                               : "no dump of '" + options.from_database + "'") +
                    " with --from-database; snapshot " + snap.id.substr(0, 8) + " holds: " + names);
  }
  report.target_database = options.target.empty() ? report.source_database : options.target;
  if (options.jobs < 1) return fail(ErrorKind::usage, "--jobs must be at least 1");

  if (options.create == PgCreate::yes) {
    auto spawn = pg::client_environment(conn);
    spawn.env.erase("PGDATABASE");  // createdb connects to its maintenance database
    auto st = run_client(
        {pg::program(conn, "createdb"), "--no-password", "--", report.target_database}, spawn);
    if (!st)
      return fail(st.error().kind,
                  "creating database '" + report.target_database + "': " + st.error().message);
  }
  std::vector<std::string> argv{pg::program(conn, "pg_restore"), "--no-password", "--exit-on-error",
                                "--dbname=" + dbname_conninfo(report.target_database)};
  auto spawn = pg::client_environment(conn, report.target_database);
  util::Status st;
  if (options.jobs > 1) {
    argv.push_back("--jobs=" + std::to_string(options.jobs));
    st = restore_from_file(repo, snap, report.file, argv, spawn);
  } else {
    st = restore_piped(repo, snap, report.file, argv, spawn);
  }
  if (!st) {
    return fail(st.error().kind, "restoring '" + report.source_database + "' into '" +
                                     report.target_database + "': " + st.error().message);
  }
  return report;
}

}  // namespace bkp::engine
