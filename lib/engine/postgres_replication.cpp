// backup_postgres_replication: a physical base backup of a server on any
// host, through the replication protocol's BASE_BACKUP. The tar archives it
// streams are stored as the same tree the local path reads from the data
// directory (data directory and tablespace roots, pg_tblspc/<oid> symlinks,
// the server's uid/gid/mode/mtime), with the same facts in the snapshot's
// extra, so restore and point-in-time recovery do not know the difference.
#include <algorithm>
#include <cstdlib>

#include "engine/postgres_base_backup.hpp"
#include "engine/postgres_physical.hpp"
#include "engine/postgres_tablespaces.hpp"
#include "util/host.hpp"
#include "util/time.hpp"

namespace bkp::engine {

namespace fs = std::filesystem;
namespace pg = sources::postgres;
using util::ErrorKind;
using util::fail;

namespace {

// The server's host as the source name shows it: this host's name when
// the server is local (a socket, localhost), so that backups of one
// server taken on its host either way share a source and chain.
std::string server_host(const pg::Connection& conn) {
  const auto& h = conn.host;
  if (h.empty() || h.front() == '/' || h == "localhost" || h == "127.0.0.1" || h == "::1")
    return util::host_name();
  return h;
}

// MAX_RATE takes kB/s from 32 to 1048576; a rate outside that is kept by
// bkp's own limiter on the bytes received.
std::optional<std::uint64_t> max_rate_kb(const util::RateLimiter* limit) {
  if (!limit) return std::nullopt;
  auto kb = limit->rate() / 1024;
  if (kb < 32 || kb > 1048576) return std::nullopt;
  return kb;
}

util::Status check_server(pg::ReplicationConnection& rc) {
  BKP_ASSIGN(auto version_num, rc.value("SHOW server_version_num"));
  BKP_ASSIGN(auto version, rc.value("SHOW server_version"));
  if (std::atoi(version_num.c_str()) < 150000) {
    return fail(ErrorKind::usage,
                "base backups over the replication protocol need PostgreSQL 15 or later; " +
                    rc.where() + " runs " + version);
  }
  BKP_ASSIGN(auto in_recovery, rc.value("SELECT pg_is_in_recovery()"));
  if (in_recovery == "t") {
    return fail(ErrorKind::usage,
                "physical backups of a standby are not supported yet; back up the primary");
  }
  BKP_ASSIGN(auto archive_mode, rc.value("SHOW archive_mode"));
  if (archive_mode == "off") {
    return fail(ErrorKind::usage,
                "archive_mode is off on " + rc.where() +
                    ": a base backup cannot be restored without its WAL; set archive_mode = on "
                    "and archive_command = 'bkp --config FILE wal-push %p'");
  }
  return {};
}

}  // namespace

util::Result<BackupReport> backup_postgres_replication(repo::Repository& repo,
                                                       const pg::Connection& conn,
                                                       const PgPhysicalBackupOptions& options,
                                                       const ProgressFn& progress) {
  BKP_ASSIGN(auto rc, pg::ReplicationConnection::open(conn));
  BKP_TRY(check_server(rc));
  BKP_ASSIGN(auto ident, rc.query("IDENTIFY_SYSTEM"));
  if (ident.empty() || ident.front().empty())
    return fail(ErrorKind::generic, rc.where() + ": IDENTIFY_SYSTEM returned nothing");
  const std::string system_id = ident.front().front();
  BKP_ASSIGN(auto version, rc.value("SHOW server_version"));
  BKP_ASSIGN(auto seg_text,
             rc.value("SELECT setting FROM pg_settings WHERE name = 'wal_segment_size'"));
  const std::uint64_t seg_size = std::strtoull(seg_text.c_str(), nullptr, 10);
  if (seg_size == 0 || (seg_size & (seg_size - 1)) != 0)
    return fail(ErrorKind::generic, "unexpected wal_segment_size '" + seg_text + "'");
  // data_directory is visible to superusers and pg_read_all_settings only;
  // for a role that may only replicate, pg_settings leaves the row out.
  std::string data_dir = options.data_dir;
  if (data_dir.empty()) {
    BKP_ASSIGN(auto rows,
               rc.query("SELECT setting FROM pg_settings WHERE name = 'data_directory'"));
    if (!rows.empty() && !rows.front().empty()) data_dir = rows.front().front();
  }
  if (data_dir.empty()) data_dir = "/pgdata-" + system_id;
  data_dir = fs::path(data_dir).lexically_normal().string();
  if (data_dir.size() > 1 && data_dir.back() == '/') data_dir.pop_back();
  if (!fs::path(data_dir).is_absolute())
    return fail(ErrorKind::usage, "--pg-data '" + data_dir + "' is not an absolute path");

  BKP_TRY(repo.sync_catalog());
  const repo::WriteStats written_before = repo.write_stats();
  const auto start_ns = util::now_ns();
  const std::string label = "bkp " + util::format_rfc3339(start_ns);
  std::string command = "BASE_BACKUP (LABEL " + rc.quote(label) +
                        ", CHECKPOINT 'fast', WAIT false, WAL false, MANIFEST 'yes', "
                        "TABLESPACE_MAP true";
  // The server paces its own reads with MAX_RATE, which is what spares
  // its disk; bkp's limiter only stands in where MAX_RATE cannot.
  auto max_rate = max_rate_kb(options.read_limit.get());
  if (max_rate) command += ", MAX_RATE " + std::to_string(*max_rate);
  command += ")";
  util::RateLimiter* own_limit = max_rate ? nullptr : options.read_limit.get();

  BKP_ASSIGN(auto start, rc.start_base_backup(command));
  BaseBackupLayout layout;
  layout.data_dir = data_dir;
  for (auto& t : start.tablespaces) layout.tablespace_oids[t.location] = t.oid;
  auto tree = std::make_shared<MemberTree>();
  BKP_ASSIGN(auto received, receive_base_backup(repo, rc, layout, *tree, own_limit, progress));
  BKP_ASSIGN(auto end, rc.finish_base_backup());
  BKP_TRY(check_against_manifest(received));
  if (received.backup_label.empty())
    return fail(ErrorKind::generic, rc.where() + ": the base backup holds no backup_label");

  // Names for the snapshot's tablespace list, as the local path records it.
  std::vector<PgTablespace> tablespaces;
  BKP_ASSIGN(auto names, rc.query("SELECT oid, spcname FROM pg_tablespace"));
  for (auto& t : start.tablespaces) {
    std::string name = t.oid;
    for (auto& row : names)
      if (row.size() == 2 && row[0] == t.oid) name = row[1];
    tablespaces.push_back(PgTablespace{t.oid, name, t.location});
  }

  FileBackupOptions fo;
  fo.entries = tree;
  fo.written_before = written_before;
  fo.paths = {fs::path(data_dir)};
  for (auto& t : tablespaces) fo.paths.emplace_back(t.location);
  fo.type = options.type;
  fo.tags = options.tags;
  fo.source_name = "postgres-physical:" + server_host(conn) + ":" + data_dir;
  fo.source_kind = "postgres";
  fo.extra = {{"mode", "physical"},
              {"via", "replication"},
              {"server_version", version},
              {"system_identifier", system_id},
              {"data_directory", data_dir},
              {"label", label},
              {"start_lsn", start.start.lsn},
              {"start_time", util::format_rfc3339(start_ns)},
              {"backup_start_ns", start_ns},
              {"wal_segment_size", seg_size},
              {"tablespaces", tablespaces_to_json(tablespaces)},
              {"received_bytes", received.bytes}};
  if (!conn.host.empty()) fo.extra["host"] = conn.host;
  if (!conn.port.empty()) fo.extra["port"] = conn.port;
  fo.before_save = [&](repo::Snapshot& snap) -> util::Status {
    BKP_ASSIGN(auto stop_segment, record_backup_stop(snap, end.lsn, received.backup_label,
                                                     received.tablespace_map, seg_size));
    // The WAL from the start to the stop segment comes from the archive
    // (archive_command = bkp wal-push), as for the local path: WAL false.
    return wait_for_archived(repo, stop_segment, options.wal_timeout_seconds);
  };
  return backup_files(repo, fo, progress);
}

}  // namespace bkp::engine
