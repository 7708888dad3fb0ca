// The --pg-* connection flags shared by every PostgreSQL command, on top of
// postgres.* from the configuration (file, BKP_PG_*, DB_*).
#pragma once

#include "context.hpp"
#include "sources/postgres/connection.hpp"

namespace CLI {
class App;
}

namespace bkp::cli {

struct PgFlags {
  std::string host, port, user, database;
};

void add_pg_flags(CLI::App& app, PgFlags& flags);
util::Result<sources::postgres::Connection> pg_connection(const Context& ctx, const PgFlags& flags);

}  // namespace bkp::cli
