#include "pg_options.hpp"

#include <CLI/CLI.hpp>

namespace bkp::cli {

void add_pg_flags(CLI::App& app, PgFlags& flags) {
  const char* grp = "PostgreSQL connection";
  app.add_option("--pg-host", flags.host,
                 "server host or socket directory (postgres.host, DB_HOST)")
      ->group(grp);
  app.add_option("--pg-port", flags.port, "server port (postgres.port, DB_PORT)")->group(grp);
  app.add_option("--pg-user", flags.user, "user name (postgres.user, DB_USER)")->group(grp);
  app.add_option("--pg-database", flags.database,
                 "database to connect to (postgres.database, DB_NAME)")
      ->group(grp);
}

util::Result<sources::postgres::Connection> pg_connection(const Context& ctx,
                                                          const PgFlags& flags) {
  BKP_ASSIGN(auto conn, sources::postgres::connection_from_config(ctx.config));
  if (!flags.host.empty()) conn.host = flags.host;
  if (!flags.port.empty()) conn.port = flags.port;
  if (!flags.user.empty()) conn.user = flags.user;
  if (!flags.database.empty()) conn.database = flags.database;
  return conn;
}

}  // namespace bkp::cli
