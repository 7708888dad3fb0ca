#include "engine/postgres_physical.hpp"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include "engine/postgres_tablespaces.hpp"
#include "engine/wal.hpp"
#include "repo/wal_entry.hpp"
#include "sources/postgres/session.hpp"
#include "util/host.hpp"
#include "util/interrupt.hpp"
#include "util/text.hpp"
#include "util/time.hpp"

namespace bkp::engine {

namespace pg = sources::postgres;
namespace fs = std::filesystem;
using util::ErrorKind;
using util::fail;

namespace {

// A path as a literal in an exclude glob: '*', '?', '[' and '\' quoted.
std::string glob_literal(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == '*' || c == '?' || c == '[' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// "START WAL LOCATION: 0/2000028 (file 000000010000000000000002)" and
// "START TIMELINE: 1" from a backup_label.
std::string label_field(const std::string& label, const std::string& key) {
  auto pos = label.find(key + ": ");
  if (pos == std::string::npos) return {};
  auto start = pos + key.size() + 2;
  auto end = label.find('\n', start);
  return label.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// The system identifier in the first 8 bytes of global/pg_control (host
// byte order, as the server wrote it): proves `data_dir` is the server's.
std::optional<std::uint64_t> control_system_identifier(const fs::path& data_dir) {
  std::ifstream in(data_dir / "global" / "pg_control", std::ios::binary);
  std::uint64_t id = 0;
  if (!in.read(reinterpret_cast<char*>(&id), sizeof id)) return std::nullopt;
  return id;
}

}  // namespace

util::Status wait_for_archived(repo::Repository& repo, const std::string& segment, int timeout_s) {
  auto object = repo::wal_object_name(segment);
  if (!object) return fail(ErrorKind::generic, "'" + segment + "' is not a WAL segment name");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  for (;;) {
    BKP_ASSIGN(auto entry, load_wal_entry(repo, *object));
    if (entry) return {};
    if (std::chrono::steady_clock::now() >= deadline) {
      return fail(ErrorKind::generic,
                  "WAL segment '" + segment + "', needed to restore this backup, did not reach " +
                      "the repository's WAL archive within " + std::to_string(timeout_s) +
                      " s; is archive_command set to 'bkp --config ... wal-push %p' for this " +
                      "repository? No snapshot written");
    }
    BKP_TRY(util::check_interrupted());
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

std::optional<PgVia> parse_pg_via(std::string_view text) {
  if (text == "auto") return PgVia::automatic;
  if (text == "local") return PgVia::local;
  if (text == "replication") return PgVia::replication;
  return std::nullopt;
}

std::string_view pg_via_name(PgVia via) {
  switch (via) {
    case PgVia::automatic:
      return "auto";
    case PgVia::local:
      return "local";
    case PgVia::replication:
      return "replication";
  }
  return "auto";
}

util::Result<std::string> record_backup_stop(repo::Snapshot& snap, const std::string& stop_lsn_text,
                                             const std::string& label_file,
                                             const std::string& tablespace_map,
                                             std::uint64_t seg_size) {
  auto stop_lsn = parse_lsn(stop_lsn_text);
  auto start_field = label_field(label_file, "START WAL LOCATION");
  auto file_pos = start_field.find("(file ");
  std::string start_segment =
      file_pos == std::string::npos ? "" : start_field.substr(file_pos + 6, 24);
  auto timeline = std::strtoul(label_field(label_file, "START TIMELINE").c_str(), nullptr, 10);
  if (!stop_lsn || *stop_lsn == 0 || start_segment.size() != 24 || timeline == 0)
    return fail(ErrorKind::generic, "cannot read the backup_label the server returned");
  // The last record of the backup ends at the stop LSN: the segment
  // holding the byte before it is the last one recovery needs.
  WalSegment last{std::uint32_t(timeline), (*stop_lsn - 1) / seg_size};
  auto stop_segment = wal_segment_name(last, seg_size);
  auto& x = snap.extra;
  x["stop_lsn"] = stop_lsn_text;
  x["stop_time"] = util::now_rfc3339();
  x["timeline"] = timeline;
  x["wal_start"] = start_segment;
  x["wal_stop"] = stop_segment;
  x["backup_label"] = label_file;
  x["tablespace_map"] = tablespace_map;
  return stop_segment;
}

std::optional<std::uint64_t> parse_lsn(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto hi = util::parse_number<std::uint32_t>(text.substr(0, slash), 16);
  auto lo = util::parse_number<std::uint32_t>(text.substr(slash + 1), 16);
  if (!hi || !lo) return std::nullopt;
  return (std::uint64_t(*hi) << 32) | *lo;
}

std::optional<WalSegment> parse_wal_segment(std::string_view name, std::uint64_t segment_size) {
  if (name.size() != 24 || segment_size == 0) return std::nullopt;
  std::uint32_t parts[3];
  for (int i = 0; i < 3; ++i) {
    auto p = name.data() + 8 * i;
    for (int k = 0; k < 8; ++k) {
      char c = p[k];
      if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) return std::nullopt;
    }
    auto part = util::parse_number<std::uint32_t>(std::string_view(p, 8), 16);
    if (!part) return std::nullopt;
    parts[i] = *part;
  }
  std::uint64_t per_xlogid = 0x100000000ull / segment_size;
  if (parts[2] >= per_xlogid) return std::nullopt;
  return WalSegment{parts[0], std::uint64_t(parts[1]) * per_xlogid + parts[2]};
}

std::string wal_segment_name(const WalSegment& s, std::uint64_t segment_size) {
  std::uint64_t per_xlogid = 0x100000000ull / segment_size;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%08X%08X%08X", s.timeline, unsigned(s.segno / per_xlogid),
                unsigned(s.segno % per_xlogid));
  return buf;
}

std::string pg_physical_source(const std::string& data_dir) {
  return "postgres-physical:" + util::host_name() + ":" + data_dir;
}

std::vector<std::string> pg_physical_excludes(const std::string& data_dir) {
  auto base = glob_literal(data_dir);
  std::vector<std::string> out;
  // Directories kept (empty): the server expects them.
  for (const char* dir : {"pg_wal", "pg_replslot", "pg_stat_tmp", "pg_dynshmem", "pg_notify",
                          "pg_serial", "pg_snapshots", "pg_subtrans"})
    out.push_back(base + "/" + dir + "/**");
  for (const char* file : {"postmaster.pid", "postmaster.opts", "backup_label", "backup_label.old",
                           "tablespace_map", "recovery.signal", "standby.signal"})
    out.push_back(base + "/" + file);
  // Anywhere in the tree: relation cache files and temporary files.
  out.push_back("pg_internal.init");
  out.push_back("pgsql_tmp*");
  return out;
}

namespace {

struct LocalDataDir {
  fs::path data_dir;
  std::string system_id;
  std::uint64_t segment_size = 0;
};

// The server's data directory, when this host can read it.
util::Result<LocalDataDir> local_data_dir(pg::Session& session, const pg::Connection& conn,
                                          const PgPhysicalBackupOptions& options) {
  BKP_ASSIGN(auto system_id, session.value("SELECT system_identifier FROM pg_control_system()"));
  BKP_ASSIGN(auto seg_text,
             session.value("SELECT setting FROM pg_settings WHERE name = 'wal_segment_size'"));
  const std::uint64_t seg_size = std::strtoull(seg_text.c_str(), nullptr, 10);
  if (seg_size == 0 || (seg_size & (seg_size - 1)) != 0)
    return fail(ErrorKind::generic, "unexpected wal_segment_size '" + seg_text + "'");
  std::string dir_text = options.data_dir;
  if (dir_text.empty()) {
    BKP_ASSIGN(dir_text, session.value("SHOW data_directory"));
  }
  std::error_code ec;
  auto data_dir = fs::canonical(dir_text, ec);
  if (ec) {
    return fail(ErrorKind::not_found,
                "data directory '" + dir_text + "' cannot be read here (" + ec.message() +
                    "); run on the database host, or use --pg-via replication");
  }
  auto control_id = control_system_identifier(data_dir);
  if (!control_id || std::to_string(*control_id) != system_id) {
    return fail(ErrorKind::usage, "'" + data_dir.string() +
                                      "' is not the data directory of the server at " +
                                      pg::describe(conn) + " (system identifier " + system_id +
                                      "); give the right one with --pg-data");
  }
  return LocalDataDir{data_dir, system_id, seg_size};
}

}  // namespace

util::Result<BackupReport> backup_postgres_physical(repo::Repository& repo,
                                                    const pg::Connection& conn,
                                                    const PgPhysicalBackupOptions& options,
                                                    const ProgressFn& progress) {
  if (options.via == PgVia::replication)
    return backup_postgres_replication(repo, conn, options, progress);
  // Automatic: whatever stops reading the data directory here (a role
  // that may only replicate, a data directory on another host or not
  // readable by this user) means the replication protocol; a --pg-data
  // that was given is meant for this host and fails instead.
  const bool fall_back = options.via == PgVia::automatic && options.data_dir.empty();
  auto opened = pg::Session::open(conn);
  if (!opened && fall_back) return backup_postgres_replication(repo, conn, options, progress);
  BKP_ASSIGN(auto session, std::move(opened));
  BKP_ASSIGN(auto version_num, session.value("SHOW server_version_num"));
  BKP_ASSIGN(auto version, session.value("SHOW server_version"));
  if (std::atoi(version_num.c_str()) < 150000) {
    return fail(ErrorKind::usage,
                "physical backups need PostgreSQL 15 or later "
                "(pg_backup_start); " +
                    pg::describe(conn) + " runs " + version);
  }
  BKP_ASSIGN(auto in_recovery, session.value("SELECT pg_is_in_recovery()"));
  if (in_recovery == "t") {
    return fail(ErrorKind::usage,
                "physical backups of a standby are not supported yet; "
                "back up the primary");
  }
  BKP_ASSIGN(auto archive_mode, session.value("SHOW archive_mode"));
  if (archive_mode == "off") {
    return fail(ErrorKind::usage,
                "archive_mode is off on " + pg::describe(conn) +
                    ": a base backup cannot be restored without its WAL; set archive_mode = on "
                    "and archive_command = 'bkp --config FILE wal-push %p'");
  }
  auto local = local_data_dir(session, conn, options);
  if (!local && fall_back) return backup_postgres_replication(repo, conn, options, progress);
  BKP_ASSIGN(auto here, std::move(local));
  const fs::path data_dir = here.data_dir;
  const std::string system_id = here.system_id;
  const std::uint64_t seg_size = here.segment_size;
  BKP_ASSIGN(auto tablespaces, list_tablespaces(session));
  std::error_code ec;

  const auto start_ns = util::now_ns();
  const std::string label = "bkp " + util::format_rfc3339(start_ns);
  BKP_ASSIGN(auto start_lsn,
             session.value("SELECT pg_backup_start(" + session.quote(label) + ", true)"));

  FileBackupOptions fo;
  fo.paths = {data_dir};
  // Each tablespace is a root of its own; pg_tblspc/<oid> is kept as the
  // symlink it is (the walker does not follow symlinks).
  for (auto& t : tablespaces) {
    auto dir = fs::canonical(t.location, ec);
    if (ec) {
      return fail(ErrorKind::not_found, "tablespace '" + t.name + "' at '" + t.location +
                                            "' cannot be read here (" + ec.message() + ")");
    }
    fo.paths.push_back(dir);
    t.location = dir.string();
  }
  fo.walk.excludes = pg_physical_excludes(data_dir.string());
  fo.type = options.type;
  fo.tags = options.tags;
  fo.source_name = pg_physical_source(data_dir.string());
  fo.source_kind = "postgres";
  fo.vanished = FileBackupOptions::Vanished::expected;
  fo.read_limit = options.read_limit;
  fo.extra = {{"mode", "physical"},
              {"via", "local"},
              {"server_version", version},
              {"system_identifier", system_id},
              {"data_directory", data_dir.string()},
              {"label", label},
              {"start_lsn", start_lsn},
              {"start_time", util::format_rfc3339(start_ns)},
              {"backup_start_ns", start_ns},
              {"wal_segment_size", seg_size},
              {"tablespaces", tablespaces_to_json(tablespaces)}};
  if (!conn.host.empty()) fo.extra["host"] = conn.host;
  if (!conn.port.empty()) fo.extra["port"] = conn.port;
  // A page written while the parent was being read may keep its file's size
  // and mtime (the clock is coarse): only files untouched for a second
  // before the parent's pg_backup_start are taken from it unread.
  fo.reuse_before = [](const repo::Snapshot& parent) -> std::int64_t {
    std::int64_t at = parent.extra.value("backup_start_ns", std::int64_t{0});
    return at > 1'000'000'000 ? at - 1'000'000'000 : 1;
  };
  fo.before_save = [&](repo::Snapshot& snap) -> util::Status {
    BKP_ASSIGN(auto rows,
               session.query("SELECT lsn, labelfile, spcmapfile FROM pg_backup_stop(false)"));
    if (rows.empty() || rows.front().size() != 3)
      return fail(ErrorKind::generic, "pg_backup_stop returned no row");
    const auto& stop = rows.front();
    BKP_ASSIGN(auto stop_segment, record_backup_stop(snap, stop[0], stop[1], stop[2], seg_size));
    return wait_for_archived(repo, stop_segment, options.wal_timeout_seconds);
  };
  return backup_files(repo, fo, progress);
}

}  // namespace bkp::engine
