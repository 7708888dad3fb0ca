// How bkp reaches a PostgreSQL server: through its client programs (psql,
// pg_dump, pg_dumpall, pg_restore, createdb), never through a shell. The
// connection goes to them in their environment (PGHOST, PGPORT, PGUSER,
// PGDATABASE, PGPASSWORD), so a password never appears on a command line
// and a database name is never parsed as a connection string.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "util/result.hpp"
#include "util/secret.hpp"
#include "util/subprocess.hpp"

namespace bkp::sources::postgres {

struct Connection {
  // Empty fields are left to libpq: the standard PG* variables of bkp's own
  // environment, then libpq's defaults (local socket, user name, ...).
  std::string host, port, user, database;
  std::optional<util::SecretBytes> password;
  std::string bin_dir;  // where the client programs are; empty: $PATH
};

// Reads postgres.* from the configuration (file, BKP_PG_* and DB_* variables,
// --pg-* flags). postgres.password_file wins over postgres.password.
util::Result<Connection> connection_from_config(const config::Config& config);

// The argv[0] of a client program: bin_dir/name, or name looked up in $PATH.
std::string program(const Connection& conn, const std::string& name);

// The environment for a client program connecting to `database` (empty: the
// connection's own database). Never prompts: without a password libpq fails
// instead of waiting on a terminal.
util::SpawnOptions client_environment(const Connection& conn, const std::string& database = {});

// Runs one SQL statement through psql and returns the rows of its first
// column. A failure carries psql's own message ("connection refused",
// "password authentication failed").
util::Result<std::vector<std::string>> query(const Connection& conn, const std::string& sql,
                                             const std::string& database = {});

// Server version (e.g. "15.5") and the databases that accept connections,
// without templates, sorted by name.
util::Result<std::string> server_version(const Connection& conn);
util::Result<std::vector<std::string>> list_databases(const Connection& conn);

// What `where` names in messages: "postgres at HOST:PORT" as far as known.
std::string describe(const Connection& conn);

}  // namespace bkp::sources::postgres
