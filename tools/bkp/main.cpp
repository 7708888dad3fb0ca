// bkp: one binary, git-style. Parses the global options, picks the command
// from the table, loads the configuration, and maps errors to exit codes.
#include <CLI/CLI.hpp>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <csignal>
#include <iostream>
#include <map>
#include <memory>

#include "audit_trail.hpp"
#include "command.hpp"
#include "repository_access.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"

using namespace bkp;
using namespace bkp::cli;

namespace {

void add_global_options(CLI::App& app, GlobalOptions& g) {
  auto* grp = "Global options";
  app.add_option("-r,--repo", g.repo, "repository location (env BKP_REPOSITORY)")->group(grp);
  app.add_option("--config", g.config_file, "configuration file (TOML)")->group(grp);
  app.add_option("--password-file", g.password_file,
                 "read the passphrase from FILE (env BKP_PASSWORD_FILE)")
      ->group(grp);
  app.add_option("--password-command", g.password_command,
                 "run CMD and read the passphrase from its output (env BKP_PASSWORD_COMMAND)")
      ->group(grp);
  app.add_option("--key-file", g.key_file, "open the repository with a key file (env BKP_KEY_FILE)")
      ->group(grp);
  app.add_option("--s3-endpoint", g.s3_endpoint,
                 "URL of an S3-compatible service (env BKP_S3_ENDPOINT)")
      ->group(grp);
  app.add_option("--storage-class", g.storage_class,
                 "storage class of data packs on S3 or GCS (env BKP_S3_STORAGE_CLASS, "
                 "BKP_GCS_STORAGE_CLASS)")
      ->group(grp);
  app.add_option("--limit-upload", g.limit_upload,
                 "most bytes per second sent to storage, e.g. 10M (env BKP_LIMIT_UPLOAD)")
      ->group(grp);
  app.add_option("--limit-download", g.limit_download,
                 "most bytes per second read from storage, e.g. 512K (env BKP_LIMIT_DOWNLOAD)")
      ->group(grp);
  app.add_flag("--insecure-http", g.insecure_http,
               "allow plain http to storage that is not on this machine (env BKP_INSECURE_HTTP)")
      ->group(grp);
  app.add_option("--key-command", g.key_command,
                 "run CMD (no shell) and open the repository with the key it prints "
                 "(env BKP_KEY_COMMAND)")
      ->group(grp);
  app.add_flag("-q,--quiet", g.quiet, "print nothing but errors")->group(grp);
  app.add_flag("-v,--verbose", g.verbose, "more detail; repeat for more")->group(grp);
  app.add_flag("--json", g.json, "one JSON object per line on stdout")->group(grp);
  app.add_flag("--no-progress", g.no_progress, "never draw progress bars")->group(grp);
}

// Puts the command-line values on top of config file and environment.
void apply_overrides(Context& ctx) {
  using config::Origin;
  auto& g = ctx.global;
  if (!g.repo.empty()) ctx.config.set("repository", g.repo, Origin::command_line, "--repo");
  if (!g.password_file.empty())
    ctx.config.set("password_file", g.password_file, Origin::command_line, "--password-file");
  if (!g.password_command.empty())
    ctx.config.set("password_command", g.password_command, Origin::command_line,
                   "--password-command");
  if (!g.key_file.empty())
    ctx.config.set("key_file", g.key_file, Origin::command_line, "--key-file");
  if (!g.s3_endpoint.empty())
    ctx.config.set("s3.endpoint", g.s3_endpoint, Origin::command_line, "--s3-endpoint");
  if (g.insecure_http)
    ctx.config.set("insecure_http", "true", Origin::command_line, "--insecure-http");
  // One flag for whichever cloud the repository is on; each backend checks
  // the class against its own list when it opens.
  if (!g.storage_class.empty()) {
    ctx.config.set("s3.storage_class", g.storage_class, Origin::command_line, "--storage-class");
    ctx.config.set("gcs.storage_class", g.storage_class, Origin::command_line, "--storage-class");
  }
  if (!g.limit_upload.empty())
    ctx.config.set("limit_upload", g.limit_upload, Origin::command_line, "--limit-upload");
  if (!g.limit_download.empty())
    ctx.config.set("limit_download", g.limit_download, Origin::command_line, "--limit-download");
  if (!g.key_command.empty())
    ctx.config.set("key_command", g.key_command, Origin::command_line, "--key-command");
  if (g.no_progress) ctx.config.set("progress", "false", Origin::command_line, "--no-progress");
  ctx.out.format = g.json ? Format::json : Format::text;
  ctx.out.quiet = g.quiet;
  ctx.out.verbosity = g.verbose;
  ctx.out.progress_allowed = ctx.config.get_bool("progress") && !g.json;
}

int unknown_command(const std::string& name) {
  std::cerr << "bkp: '" << name << "' is not a bkp command. See 'bkp help'.\n";
  auto near = suggest_commands(name);
  if (!near.empty()) {
    std::cerr << "\nThe most similar command" << (near.size() > 1 ? "s are" : " is") << "\n";
    for (auto n : near) std::cerr << "\t" << n << "\n";
  }
  return util::exit_usage;
}

}  // namespace

int main(int argc, char** argv) {
#if defined(__GLIBC__)
  // Chunks, compressed blobs and packs are made on one thread and freed on
  // another; with glibc's default of up to 8 arenas per core, each thread's
  // arena kept what it had freed: a first backup of the 2 GB benchmark tree
  // peaked at 177 MiB RSS, 146 MiB with 4 arenas, at the same speed.
  ::mallopt(M_ARENA_MAX, 4);
#endif
  std::signal(SIGPIPE, SIG_IGN);
  util::install_interrupt_handlers();
  Context ctx;
  CLI::App app{"bkp - encrypted, deduplicated backups of files and databases", "bkp"};
  app.require_subcommand(0, 1);
  app.fallthrough();
  app.set_help_flag("-h,--help", "show help");
  add_global_options(app, ctx.global);
  ctx.root = &app;

  std::map<const CLI::App*, std::pair<const CommandSpec*, RunFn>> runners;
  for (auto& spec : command_table()) {
    auto* sub = app.add_subcommand(std::string(spec.name), std::string(spec.summary));
    runners[sub] = {&spec, spec.setup(*sub)};
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // An unknown first word is a mistyped command more often than not.
    if (app.get_subcommands().empty() && !app.remaining().empty() &&
        app.remaining().front().rfind('-', 0) != 0) {
      return unknown_command(app.remaining().front());
    }
    std::cerr << "bkp: " << e.what() << "\n";
    if (!app.get_subcommands().empty())
      std::cerr << "Run 'bkp help " << app.get_subcommands().front()->get_name()
                << "' for its options.\n";
    return util::exit_usage;
  }

  auto selected = app.get_subcommands();
  if (selected.empty()) {
    std::cout << app.help();
    return util::exit_usage;
  }

  auto cfg =
      config::Config::load(ctx.global.config_file.empty()
                               ? std::nullopt
                               : std::optional<std::filesystem::path>(ctx.global.config_file));
  if (!cfg) return ctx.out.error(cfg.error());
  ctx.config = std::move(*cfg);
  apply_overrides(ctx);

  auto& [spec, run] = runners.at(selected.front());
  if (spec->needs == Needs::key) {
    auto repo = open_repository(ctx);
    if (!repo) {
      record_unopened(ctx, spec->name, argc, argv, repo.error());
      return ctx.out.error(repo.error());
    }
    ctx.repo = std::move(*repo);
  }
  int result = 1;
  try {
    result = run(ctx);
  } catch (const std::exception& e) {
    std::cerr << "bkp: internal error in '" << spec->name << "': " << e.what() << "\n";
  }
  // Every command that opened the repository leaves an audit entry, whatever
  // its result (tools/bkp/audit_trail.cpp).
  record_audit(ctx, spec->name, argc, argv, result);
  return result;
}
