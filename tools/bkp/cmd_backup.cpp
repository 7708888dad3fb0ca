#include <CLI/CLI.hpp>

#include <chrono>

#include "command.hpp"
#include "engine/backup.hpp"
#include "engine/postgres_logical.hpp"
#include "engine/postgres_physical.hpp"
#include "engine/retention.hpp"
#include "pg_options.hpp"
#include "replicas.hpp"
#include "repository_access.hpp"
#include "sources/files/exclude.hpp"
#include "util/io_priority.hpp"

namespace bkp::cli {

namespace {

struct BackupOptions {
  std::vector<std::string> paths, excludes, exclude_files, tags, command;
  bool one_file_system = false;
  std::string type = "incremental";
  std::string source, name, key_domain;
  std::string pg_mode = "logical", pg_database, pg_type = "incremental", pg_data, pg_via;
  bool pg_all = false;
  int wal_timeout = 120;
  PgFlags pg;
  std::string limit_rate, io_nice;
};

// --limit-rate and --io-nice, on the backups that read a tree in place.
void add_politeness_flags(CLI::App& cmd, BackupOptions& o) {
  cmd.add_option("--limit-rate", o.limit_rate,
                 "read the source at most RATE bytes per second (K, M, G: KiB, MiB, GiB; "
                 "e.g. 20M)");
  cmd.add_option("--io-nice", o.io_nice,
                 "run with I/O class idle or best-effort (lowest level), and CPU nice 19")
      ->check(CLI::IsMember({"idle", "best-effort"}));
}

// Applies --io-nice to this process and returns the --limit-rate limiter
// (null without one).
util::Result<std::shared_ptr<util::RateLimiter>> apply_politeness(const BackupOptions& o) {
  if (!o.io_nice.empty()) BKP_TRY(util::lower_priority(*util::parse_io_class(o.io_nice)));
  if (o.limit_rate.empty()) return std::shared_ptr<util::RateLimiter>();
  std::string_view text = o.limit_rate;
  if (text.ends_with("/s")) text.remove_suffix(2);
  auto rate = engine::parse_size(text);
  if (!rate || *rate == 0) {
    return util::fail(util::ErrorKind::usage,
                      "--limit-rate: '" + o.limit_rate +
                          "' is not a rate (bytes per second; examples: 500K, 20M, 1G)");
  }
  return std::make_shared<util::RateLimiter>(*rate);
}

// What every backup prints: a line per warning, then the summary.
int report(Context& ctx, const engine::BackupReport& r, double seconds) {
  for (auto& w : r.warnings) ctx.out.warn(w);
  const auto& s = r.snapshot;
  const auto& st = s.stats;
  ctx.audit.snapshots.push_back(s.id);
  if (ctx.out.json()) {
    ctx.out.emit("backup", {{"snapshot", s.id},
                            {"source", s.source_name},
                            {"backup_type", s.backup_type},
                            {"parent", s.parent},
                            {"extra", s.extra},
                            {"stats", st},
                            {"warnings", r.warnings},
                            {"partial", r.partial},
                            {"seconds", seconds}});
  } else {
    std::string line = "snapshot " + s.id.substr(0, 8) + " saved (" + s.backup_type;
    if (!s.parent.empty()) line += " of " + s.parent.substr(0, 8);
    ctx.out.info(line + ")");
    if (st.contains("files_new")) {
      ctx.out.info("  files: " + std::to_string(st.value("files_new", 0)) + " new, " +
                   std::to_string(st.value("files_changed", 0)) + " changed, " +
                   std::to_string(st.value("files_unmodified", 0)) +
                   " unmodified; dirs: " + std::to_string(st.value("dirs", 0)));
    }
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.1fs", seconds);
    ctx.out.info("  " + human_bytes(st.value("total_bytes", 0ull)) + " processed, " +
                 human_bytes(st.value("raw_bytes_new", 0ull)) + " new (" +
                 human_bytes(st.value("stored_bytes_new", 0ull)) + " stored) in " + secs);
    if (r.partial) ctx.out.warn("backup is partial: some files were skipped (see above)");
  }
  return r.partial ? util::exit_partial : 0;
}

engine::ProgressFn progress_for(Progress& bar) {
  return [&bar](const engine::BackupProgress& p) { bar.update(p.bytes_read, p.items); };
}

}  // namespace

constexpr const char* kKeyDomainHelp =
    "seal this backup under key domain D (created if new): its own keys, no deduplication with "
    "other domains, erasable with 'bkp keys shred'";

RunFn setup_backup(CLI::App& sub) {
  auto o = std::make_shared<BackupOptions>();
  sub.require_subcommand(1);

  auto* files = sub.add_subcommand("files", "back up file trees");
  files->add_option("paths", o->paths, "files and directories to back up")->required();
  files->add_option("--exclude", o->excludes, "leave out paths matching GLOB (repeatable)");
  files->add_option("--exclude-file", o->exclude_files, "read exclude globs from FILE");
  files->add_flag("--one-file-system", o->one_file_system, "do not cross file-system boundaries");
  files->add_option("--type", o->type, "full, incremental (default) or differential")
      ->check(CLI::IsMember({"full", "incremental", "differential"}));
  files->add_option("--tag", o->tags, "tag the snapshot (repeatable)");
  files->add_option("--source", o->source, "source name (default: host:paths)");
  files->add_option("--key-domain", o->key_domain, kKeyDomainHelp);
  add_politeness_flags(*files, *o);

  auto* stream = sub.add_subcommand("stdin", "back up standard input or a command's output");
  stream->add_option("--name", o->name, "file name the stream is stored and restored as")
      ->required();
  stream->add_option("--tag", o->tags, "tag the snapshot (repeatable)");
  stream->add_option("--key-domain", o->key_domain, kKeyDomainHelp);
  stream->add_option("command", o->command, "run COMMAND ARGS... and store its output (after --)");

  auto* postgres = sub.add_subcommand("postgres", "back up PostgreSQL databases");
  postgres
      ->add_option("--mode", o->pg_mode,
                   "logical (pg_dump, the default) or physical (base backup of the data "
                   "directory, for point-in-time recovery; see --pg-via)")
      ->check(CLI::IsMember({"logical", "physical"}));
  auto* pg_type = postgres
                      ->add_option("--type", o->pg_type,
                                   "physical: full, incremental (default) or differential")
                      ->check(CLI::IsMember({"full", "incremental", "differential"}));
  auto* pg_data =
      postgres->add_option("--pg-data", o->pg_data,
                           "physical: the data directory (default: postgres.data_dir, else "
                           "SHOW data_directory)");
  auto* pg_via =
      postgres
          ->add_option("--pg-via", o->pg_via,
                       "physical: read the data directory on this host (local) or take it over "
                       "the replication protocol (replication); default (auto, postgres.via): "
                       "local when the server's data directory is readable here")
          ->check(CLI::IsMember({"auto", "local", "replication"}));
  auto* wal_timeout =
      postgres
          ->add_option("--wal-timeout", o->wal_timeout,
                       "physical: seconds to wait for the last WAL segment to be archived "
                       "(default 120)")
          ->check(CLI::Range(1, 86400));
  auto* db = postgres->add_option("--database", o->pg_database,
                                  "database to dump (default: postgres.database)");
  postgres
      ->add_flag("--all-databases", o->pg_all,
                 "every database, and roles and tablespaces (pg_dumpall --globals-only)")
      ->excludes(db);
  postgres->add_option("--tag", o->tags, "tag the snapshot (repeatable)");
  postgres->add_option("--key-domain", o->key_domain, kKeyDomainHelp);
  add_politeness_flags(*postgres, *o);
  add_pg_flags(*postgres, o->pg);

  return [o, files, postgres, pg_type, pg_data, pg_via, wal_timeout](Context& ctx) {
    rotate_keys_by_age(ctx);
    auto& repo = *ctx.repo;
    if (!o->key_domain.empty()) {
      if (auto st = repo.use_key_domain(o->key_domain); !st) return ctx.out.error(st.error());
      ctx.audit.keys.push_back("key:" + util::to_hex(repo.content_key().id));
    }
    Progress bar(ctx.out, "backup");
    auto started = std::chrono::steady_clock::now();
    util::Result<engine::BackupReport> result = util::fail(util::ErrorKind::generic, "no backup");
    auto limit = apply_politeness(*o);
    if (!limit) return ctx.out.error(limit.error());
    if (files->parsed()) {
      engine::FileBackupOptions fo;
      fo.read_limit = *limit;
      for (auto& p : o->paths) fo.paths.emplace_back(p);
      fo.walk.excludes = o->excludes;
      for (auto& f : o->exclude_files) {
        auto more = sources::read_exclude_file(f);
        if (!more) return ctx.out.error(more.error());
        fo.walk.excludes.insert(fo.walk.excludes.end(), more->begin(), more->end());
      }
      fo.walk.file_systems =
          o->one_file_system ? sources::FileSystems::one : sources::FileSystems::cross;
      fo.type = *engine::parse_backup_type(o->type);
      fo.tags = o->tags;
      fo.source_name = o->source;
      result = engine::backup_files(repo, fo, progress_for(bar));
    } else if (postgres->parsed()) {
      auto conn = pg_connection(ctx, o->pg);
      if (!conn) return ctx.out.error(conn.error());
      if (o->pg_mode == "physical") {
        if (o->pg_all || !o->pg_database.empty()) {
          return ctx.out.error(util::make_error(
              util::ErrorKind::usage,
              "a physical backup holds the whole cluster: --database and --all-databases are "
              "for --mode logical"));
        }
        engine::PgPhysicalBackupOptions po;
        po.type = *engine::parse_backup_type(o->pg_type);
        const std::string via =
            o->pg_via.empty() ? ctx.config.get("postgres.via").value_or("auto") : o->pg_via;
        auto parsed_via = engine::parse_pg_via(via);
        if (!parsed_via) {
          return ctx.out.error(
              util::make_error(util::ErrorKind::usage,
                               "postgres.via: '" + via + "' is not auto, local or replication"));
        }
        po.via = *parsed_via;
        po.data_dir =
            o->pg_data.empty() ? ctx.config.get("postgres.data_dir").value_or("") : o->pg_data;
        po.tags = o->tags;
        po.wal_timeout_seconds = o->wal_timeout;
        po.read_limit = *limit;
        result = engine::backup_postgres_physical(repo, *conn, po, progress_for(bar));
      } else if (pg_type->count() || pg_data->count() || wal_timeout->count() || pg_via->count() ||
                 !o->limit_rate.empty() || !o->io_nice.empty()) {
        return ctx.out.error(util::make_error(
            util::ErrorKind::usage,
            "--type, --pg-data, --pg-via, --wal-timeout, --limit-rate and --io-nice are for "
            "--mode physical; a logical backup is always a whole dump, read by the server"));
      } else {
        engine::PgLogicalBackupOptions po;
        po.scope = o->pg_all ? engine::PgScope::all_databases : engine::PgScope::one_database;
        po.database = o->pg_database;
        po.tags = o->tags;
        result = engine::backup_postgres_logical(repo, *conn, po, progress_for(bar));
      }
    } else {
      engine::StreamBackupOptions so;
      so.name = o->name;
      so.command = o->command;
      so.tags = o->tags;
      result = engine::backup_stream(repo, so, progress_for(bar));
    }
    bar.finish();
    if (!result) return ctx.out.error(result.error());
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
    // Replicas get the snapshot only once it is complete in the primary.
    return replicate(ctx, report(ctx, *result, took.count()));
  };
}

}  // namespace bkp::cli
