// bkp copy: copies snapshots from one repository into another, sending only
// the chunks the target lacks (lib/engine/copy.cpp). Either side may be left
// out and is then the repository of -r/BKP_REPOSITORY; each side's secret
// comes from its own --from-*/--to-* option (or from.*/to.* settings), else
// from the primary repository's.
#include <CLI/CLI.hpp>

#include "command.hpp"
#include "config/config.hpp"
#include "engine/copy.hpp"
#include "engine/wal_copy.hpp"
#include "repository_access.hpp"

namespace bkp::cli {

namespace {

struct SideArgs {
  std::string location, password_file, password_command, key_file, key_command;
};

struct CopyArgs {
  std::vector<std::string> specs;
  SideArgs from, to;
  std::string source;
  bool dry_run = false;
  bool no_wal = false;
};

void add_side(CLI::App& sub, const std::string& side, SideArgs& a) {
  sub.add_option("--" + side, a.location, "the " + side + " repository (default: -r)");
  sub.add_option("--" + side + "-password-file", a.password_file,
                 "read the " + side + " repository's passphrase from FILE");
  sub.add_option("--" + side + "-password-command", a.password_command,
                 "run CMD for the " + side + " repository's passphrase");
  sub.add_option("--" + side + "-key-file", a.key_file,
                 "open the " + side + " repository with a key file");
  sub.add_option("--" + side + "-key-command", a.key_command,
                 "run CMD (no shell) for the " + side + " repository's key");
}

// The side's secret options go on top of its from.*/to.* settings.
void apply_side(Context& ctx, const std::string& side, const SideArgs& a) {
  auto set = [&](const char* name, const std::string& value) {
    if (value.empty()) return;
    ctx.config.set(side + "." + name, value, config::Origin::command_line,
                   "--" + side + "-" + std::string(name));
  };
  set("password_file", a.password_file);
  set("password_command", a.password_command);
  set("key_file", a.key_file);
  set("key_command", a.key_command);
}

nlohmann::json to_json(const engine::CopiedSnapshot& s) {
  return {{"id", s.id},
          {"source", s.source_name},
          {"time", s.time},
          {"copied", s.copied},
          {"forgotten", s.forgotten},
          {"blobs_new", s.blobs_new},
          {"raw_bytes_new", s.raw_bytes_new},
          {"stored_bytes_new", s.stored_bytes_new}};
}

int run_copy(Context& ctx, const CopyArgs& a) {
  apply_side(ctx, "from", a.from);
  apply_side(ctx, "to", a.to);
  std::string primary = ctx.repository();
  std::string from = a.from.location.empty() ? primary : a.from.location;
  std::string to = a.to.location.empty() ? primary : a.to.location;
  if (from.empty() || to.empty()) {
    return ctx.out.error(util::Error{util::ErrorKind::usage,
                                     "copy needs --from and --to (either may be left out to "
                                     "mean the repository of -r/BKP_REPOSITORY)"});
  }
  if (from == to) {
    return ctx.out.error(
        util::Error{util::ErrorKind::usage, "--from and --to name the same repository"});
  }
  auto source = open_repository_at(ctx, from, "from");
  if (!source) return ctx.out.error(source.error());
  ctx.other_repos.push_back(std::move(*source));
  auto& src = *ctx.other_repos.back();
  auto target = open_repository_at(ctx, to, "to");
  if (!target) return ctx.out.error(target.error());
  ctx.repo = std::move(*target);
  auto& dst = *ctx.repo;
  if (auto st = src.sync_catalog(); !st) return ctx.out.error(st.error().context("source"));
  if (auto st = dst.sync_catalog(); !st) return ctx.out.error(st.error().context("target"));

  engine::CopyOptions opts;
  opts.dry_run = a.dry_run;
  opts.filter.source = a.source;
  for (auto& spec : a.specs) {
    auto snap = engine::resolve_snapshot(src, spec, opts.filter);
    if (!snap) return ctx.out.error(snap.error());
    opts.snapshot_ids.push_back(snap->id);
  }
  auto report = engine::copy_snapshots(src, dst, opts, [&](const engine::CopiedSnapshot& s) {
    if (s.copied) ctx.audit.snapshots.push_back(s.id);
    if (ctx.out.json()) {
      auto j = to_json(s);
      j["dry_run"] = a.dry_run;
      ctx.out.emit("copy_snapshot", j);
      return;
    }
    std::string what = s.id.substr(0, 8) + " (" + s.source_name + ", " + s.time + ")";
    if (s.forgotten) {
      ctx.out.detail("skipped " + what + ": the target forgot it (name it to copy it anyway)");
    } else if (!s.copied) {
      ctx.out.detail("skipped " + what + ": the target has it");
    } else if (a.dry_run) {
      ctx.out.data("would copy " + what);
    } else {
      ctx.out.info("copied " + what + ": " + std::to_string(s.blobs_new) + " new blobs, " +
                   human_bytes(s.stored_bytes_new) + " stored");
    }
  });
  if (!report) return ctx.out.error(report.error());
  // The WAL archive after the snapshots: which files the target needs
  // depends on the base backups it holds.
  engine::WalCopyReport wal;
  if (!a.no_wal) {
    std::vector<std::string> incoming;
    for (auto& s : report->snapshots)
      if (s.copied) incoming.push_back(s.id);
    auto copied = engine::copy_wal(src, dst, incoming, a.dry_run);
    if (!copied) return ctx.out.error(copied.error().context("copying the WAL archive"));
    wal = std::move(*copied);
  }
  if (ctx.out.json()) {
    ctx.out.emit("copy", {{"from", config::redact_url(from)},
                          {"to", config::redact_url(to)},
                          {"dry_run", a.dry_run},
                          {"copied", a.dry_run ? 0 : report->copied()},
                          {"would_copy", a.dry_run ? report->copied() : 0},
                          {"skipped", report->skipped()},
                          {"forgotten", report->forgotten()},
                          {"same_chunk_ids", report->same_chunk_ids},
                          {"blobs_read", report->blobs_read},
                          {"wal_copied", a.dry_run ? 0 : wal.copied.size()},
                          {"wal_would_copy", a.dry_run ? wal.copied.size() : 0},
                          {"wal_present", wal.present},
                          {"wal_unneeded", wal.unneeded},
                          {"wal_bytes", wal.bytes}});
  } else {
    if (a.dry_run)
      for (auto& name : wal.copied) ctx.out.data("would copy WAL file " + name);
    ctx.out.info(
        std::string(a.dry_run ? "would copy " : "copied ") + std::to_string(report->copied()) +
        " snapshot(s), " + std::to_string(report->skipped() - report->forgotten()) +
        " already in the target" +
        (report->forgotten() ? ", " + std::to_string(report->forgotten()) + " forgotten there"
                             : std::string()));
    if (!a.no_wal && (!wal.copied.empty() || wal.present > 0 || wal.unneeded > 0)) {
      ctx.out.info(std::string(a.dry_run ? "would copy " : "copied ") +
                   std::to_string(wal.copied.size()) + " WAL file(s)" +
                   (a.dry_run ? "" : " (" + human_bytes(wal.bytes) + ")") + ", " +
                   std::to_string(wal.present) + " already in the target, " +
                   std::to_string(wal.unneeded) + " that no base backup there needs");
    }
  }
  return 0;
}

}  // namespace

RunFn setup_copy(CLI::App& sub) {
  auto a = std::make_shared<CopyArgs>();
  sub.add_option("snapshots", a->specs, "snapshots to copy (default: all)");
  add_side(sub, "from", a->from);
  add_side(sub, "to", a->to);
  sub.add_option("--source", a->source, "only snapshots of this source");
  sub.add_flag("--dry-run", a->dry_run, "list what would be copied, copy nothing");
  sub.add_flag("--no-wal", a->no_wal, "copy snapshots only, not the PostgreSQL WAL archive");
  return [a](Context& ctx) { return run_copy(ctx, *a); };
}

}  // namespace bkp::cli
