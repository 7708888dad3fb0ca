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

// restore postgres --target-dir and its point-in-time flags.
struct PgPhysicalArgs {
  std::string target_dir, to_time, to_lsn, to_xid, port;
  std::vector<std::string> tablespace_map;  // OLD=NEW
  bool latest = false, start = false;
  bool any() const {
    return !to_time.empty() || !to_lsn.empty() || !to_xid.empty() || !port.empty() || latest ||
           start || !tablespace_map.empty();
  }
};
void add_pg_physical_flags(CLI::App& app, PgPhysicalArgs& args);
// Restores a physical snapshot (cmd_restore_physical.cpp).
int run_restore_physical(Context& ctx, const std::string& snapshot, const PgPhysicalArgs& args,
                         const std::string& bin_dir);
util::Result<sources::postgres::Connection> pg_connection(const Context& ctx, const PgFlags& flags);

}  // namespace bkp::cli
