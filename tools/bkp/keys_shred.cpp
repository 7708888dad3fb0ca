#include "keys_shred.hpp"

#include <unistd.h>
#include <CLI/CLI.hpp>

#include <iostream>

#include "engine/shred.hpp"

namespace bkp::cli {

CLI::App* add_keys_shred(CLI::App& keys, const std::shared_ptr<ShredArgs>& args) {
  auto* cmd = keys.add_subcommand(
      "shred", "destroy a key domain's keys: its snapshots become unreadable for good");
  cmd->add_option("--domain", args->domain, "the key domain to shred")->required();
  cmd->add_flag("--yes", args->yes,
                "do not ask for confirmation (required when standard input is not a terminal)");
  cmd->add_flag("--dry-run", args->dry_run,
                "print the snapshots that would become unreadable, change nothing");
  return cmd;
}

namespace {

// Shredding cannot be undone: a person at a terminal types the domain's
// name; a script says --yes.
util::Status confirm(Context& ctx, const engine::ShredPlan& plan, const ShredArgs& a) {
  if (a.yes) return {};
  if (!::isatty(STDIN_FILENO)) {
    return util::fail(util::ErrorKind::usage,
                      "shredding cannot be undone; standard input is not a terminal, so pass "
                      "--yes to confirm");
  }
  std::cerr << "This destroys the keys of key domain '" << plan.domain
            << "': " << plan.snapshots.size()
            << " snapshot(s) become unreadable for good, in every copy of this repository.\n"
            << "Type the domain's name to confirm: " << std::flush;
  std::string line;
  std::getline(std::cin, line);
  if (line != plan.domain) {
    return util::fail(util::ErrorKind::generic, "not confirmed: nothing was shredded");
  }
  (void)ctx;
  return {};
}

}  // namespace

int run_keys_shred(Context& ctx, const ShredArgs& a) {
  auto plan = engine::plan_shred(*ctx.repo, a.domain);
  if (!plan) return ctx.out.error(plan.error());
  ctx.audit.keys.push_back("key:" + util::to_hex(plan->key));
  for (auto& s : plan->snapshots) ctx.audit.snapshots.push_back(s.id);
  auto list = [&] {
    for (auto& s : plan->snapshots)
      ctx.out.data(s.id + "  " + (s.time.empty() ? "-" : s.time.substr(0, 19)) + "  " +
                   (s.source.empty() ? "-" : s.source));
  };
  if (a.dry_run) {
    if (ctx.out.json()) {
      ctx.out.emit("shred_plan", plan->to_json());
    } else {
      list();
      ctx.out.info("would shred key domain '" + a.domain +
                   "': " + std::to_string(plan->snapshots.size()) + " snapshot(s) and " +
                   std::to_string(plan->wal.size()) + " WAL file(s) become unreadable");
    }
    return 0;
  }
  if (auto st = confirm(ctx, *plan, a); !st) return ctx.out.error(st.error());
  if (auto st = engine::shred(*ctx.repo, *plan); !st) return ctx.out.error(st.error());
  if (ctx.out.json()) {
    ctx.out.emit("key_domain_shredded", plan->to_json());
  } else {
    list();
    ctx.out.info("shredded key domain '" + a.domain + "' (data key " + util::to_hex(plan->key) +
                 "): the " + std::to_string(plan->snapshots.size()) +
                 " snapshot(s) above are unreadable and forgotten, " +
                 std::to_string(plan->wal.size()) +
                 " WAL file(s) unreadable and removed; 'bkp prune' deletes their data");
  }
  return 0;
}

}  // namespace bkp::cli
