// The command table: every subcommand is one file in tools/bkp/ and one row
// here (name, summary, what setup it needs, the function that adds its
// options). Help, completions tests and man page tests all read this table.
#pragma once

#include <functional>
#include <span>
#include <string_view>

#include "context.hpp"

namespace CLI {
class App;
}

namespace bkp::cli {

// What the dispatcher prepares before a command runs.
enum class Needs { nothing, repository, key, catalog };

using RunFn = std::function<int(Context&)>;
using SetupFn = RunFn (*)(CLI::App& sub);

struct CommandSpec {
  std::string_view name;
  std::string_view summary;
  Needs needs;
  SetupFn setup;
};

std::span<const CommandSpec> command_table();
const CommandSpec* find_command(std::string_view name);
// The nearest command names for a typo, best first (empty when none is near).
std::vector<std::string_view> suggest_commands(std::string_view typo);

// One setup function per file cmd_<name>.cpp.
RunFn setup_audit(CLI::App& sub);
RunFn setup_backup(CLI::App& sub);
RunFn setup_catalog(CLI::App& sub);
RunFn setup_config(CLI::App& sub);
RunFn setup_copy(CLI::App& sub);
RunFn setup_diff(CLI::App& sub);
RunFn setup_forget(CLI::App& sub);
RunFn setup_help(CLI::App& sub);
RunFn setup_hold(CLI::App& sub);
RunFn setup_init(CLI::App& sub);
RunFn setup_keys(CLI::App& sub);
RunFn setup_ls(CLI::App& sub);
RunFn setup_prune(CLI::App& sub);
RunFn setup_release(CLI::App& sub);
RunFn setup_restore(CLI::App& sub);
RunFn setup_restore_postgres(CLI::App& sub);  // restore's postgres subcommand
RunFn setup_snapshots(CLI::App& sub);
RunFn setup_storage(CLI::App& sub);
RunFn setup_verify(CLI::App& sub);
RunFn setup_version(CLI::App& sub);
RunFn setup_wal_fetch(CLI::App& sub);
RunFn setup_wal_push(CLI::App& sub);

}  // namespace bkp::cli
