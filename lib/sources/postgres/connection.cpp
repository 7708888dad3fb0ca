#include "sources/postgres/connection.hpp"

#include <algorithm>
#include <sstream>

#include "util/fs.hpp"

namespace bkp::sources::postgres {

using util::ErrorKind;
using util::fail;

namespace {

std::string value_of(const config::Config& config, std::string_view key) {
  return config.get(key).value_or("");
}

// psql and pg_dump start their messages with "psql: error: "; what follows
// is what the user needs, on one line.
std::string client_message(const std::string& err) {
  std::string text = err;
  for (std::string prefix : {"psql: error: ", "pg_dump: error: ", "pg_dumpall: error: "})
    if (text.rfind(prefix, 0) == 0) text = text.substr(prefix.size());
  std::replace(text.begin(), text.end(), '\n', ' ');
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text.empty() ? "no message" : text;
}

}  // namespace

util::Result<Connection> connection_from_config(const config::Config& config) {
  Connection c;
  c.host = value_of(config, "postgres.host");
  c.port = value_of(config, "postgres.port");
  c.user = value_of(config, "postgres.user");
  c.database = value_of(config, "postgres.database");
  c.bin_dir = value_of(config, "postgres.bin_dir");
  if (auto file = value_of(config, "postgres.password_file"); !file.empty()) {
    BKP_ASSIGN(auto text, util::read_text_file(file));
    // The first line, as for the repository's password_file.
    auto end = text.find_first_of("\r\n");
    if (end != std::string::npos) text.resize(end);
    c.password.emplace(util::as_bytes(text));
    util::wipe(text.data(), text.size());
  } else if (auto pw = config.get("postgres.password"); pw && !pw->empty()) {
    c.password.emplace(util::as_bytes(*pw));
  }
  return c;
}

std::string program(const Connection& conn, const std::string& name) {
  if (conn.bin_dir.empty()) return name;
  return conn.bin_dir + "/" + name;
}

util::SpawnOptions client_environment(const Connection& conn, const std::string& database) {
  util::SpawnOptions opts;
  auto set = [&](const char* name, const std::string& v) {
    if (!v.empty()) opts.env[name] = v;
  };
  set("PGHOST", conn.host);
  set("PGPORT", conn.port);
  set("PGUSER", conn.user);
  set("PGDATABASE", database.empty() ? conn.database : database);
  if (conn.password) opts.env["PGPASSWORD"] = std::string(conn.password->chars());
  // A server that does not answer must fail a backup, not hang it.
  if (!std::getenv("PGCONNECT_TIMEOUT")) opts.env["PGCONNECT_TIMEOUT"] = "10";
  opts.env["PGAPPNAME"] = "bkp";
  opts.stdin_mode = util::SpawnOptions::Stdin::null;
  return opts;
}

util::Result<std::vector<std::string>> query(const Connection& conn, const std::string& sql,
                                             const std::string& database) {
  std::vector<std::string> argv{program(conn, "psql"), "-X", "-w", "-A", "-t", "-q", "-v",
                                "ON_ERROR_STOP=1",     "-c", sql};
  auto done = util::run_capture(argv, client_environment(conn, database));
  if (!done) {
    return fail(done.error().kind,
                "running psql for " + describe(conn) + ": " + done.error().message);
  }
  if (done->status != 0) {
    return fail(ErrorKind::generic,
                "connecting to " + describe(conn) + ": " + client_message(done->err));
  }
  std::vector<std::string> rows;
  std::istringstream in(done->out);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) rows.push_back(line);
  return rows;
}

util::Result<std::string> server_version(const Connection& conn) {
  BKP_ASSIGN(auto rows, query(conn, "SHOW server_version"));
  if (rows.empty()) return fail(ErrorKind::generic, describe(conn) + " did not report its version");
  return rows.front();
}

util::Result<std::vector<std::string>> list_databases(const Connection& conn) {
  return query(conn,
               "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate "
               "ORDER BY datname");
}

std::string describe(const Connection& conn) {
  std::string where = "postgres";
  if (!conn.host.empty() || !conn.port.empty()) {
    where += " at '" + (conn.host.empty() ? std::string("localhost") : conn.host);
    if (!conn.port.empty()) where += ":" + conn.port;
    where += "'";
  }
  return where;
}

}  // namespace bkp::sources::postgres
