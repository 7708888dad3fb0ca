#include <algorithm>
#include <array>
#include <string>

#include "command.hpp"

namespace bkp::cli {

namespace {

// Sorted by name: `bkp help` lists commands in this order.
constexpr std::array kCommands{
    CommandSpec{"audit", "show, verify and export the repository's audit log", Needs::key,
                setup_audit},
    CommandSpec{"backup", "back up files, PostgreSQL, or a stream from stdin or a command",
                Needs::key, setup_backup},
    CommandSpec{"catalog", "rebuild the local catalog from the storage", Needs::key, setup_catalog},
    CommandSpec{"config", "show the effective configuration and where it came from", Needs::nothing,
                setup_config},
    CommandSpec{"copy", "copy snapshots into another repository, sending only missing data",
                Needs::nothing, setup_copy},
    CommandSpec{"diff", "show what changed between two snapshots", Needs::key, setup_diff},
    CommandSpec{"forget", "remove snapshots (prune reclaims their space)", Needs::key,
                setup_forget},
    CommandSpec{"help", "show help for bkp or for one command", Needs::nothing, setup_help},
    CommandSpec{"hold", "put a snapshot under legal hold, so nothing removes it", Needs::key,
                setup_hold},
    CommandSpec{"init", "create a new repository", Needs::nothing, setup_init},
    CommandSpec{"keys", "manage key slots, and rotate the data and master keys", Needs::key,
                setup_keys},
    CommandSpec{"ls", "list the files in a snapshot", Needs::key, setup_ls},
    CommandSpec{"prune", "remove snapshots by a retention policy and reclaim unused space",
                Needs::key, setup_prune},
    CommandSpec{"release", "remove a snapshot's legal hold", Needs::key, setup_release},
    CommandSpec{"restore", "restore a snapshot to a directory, a stream or a tar archive",
                Needs::key, setup_restore},
    CommandSpec{"snapshots", "list snapshots", Needs::key, setup_snapshots},
    CommandSpec{"storage", "show what the repository occupies in its storage, and its growth",
                Needs::key, setup_storage},
    CommandSpec{"verify", "check the repository's integrity, optionally reading all data",
                Needs::key, setup_verify},
    CommandSpec{"version", "print the version and the compiled-in features", Needs::nothing,
                setup_version},
    CommandSpec{"wal-fetch", "fetch an archived WAL file (PostgreSQL restore_command)", Needs::key,
                setup_wal_fetch},
    CommandSpec{"wal-push", "archive a WAL file (PostgreSQL archive_command)", Needs::key,
                setup_wal_push},
};

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

std::span<const CommandSpec> command_table() { return kCommands; }

const CommandSpec* find_command(std::string_view name) {
  for (auto& c : kCommands)
    if (c.name == name) return &c;
  return nullptr;
}

std::vector<std::string_view> suggest_commands(std::string_view typo) {
  std::vector<std::pair<size_t, std::string_view>> scored;
  for (auto& c : kCommands) {
    size_t d = edit_distance(typo, c.name);
    bool prefix = c.name.substr(0, typo.size()) == typo && !typo.empty();
    // Like git: only suggest what is plausibly a typo, not any command.
    if (d <= 2 || prefix) scored.emplace_back(prefix ? 0 : d, c.name);
  }
  std::sort(scored.begin(), scored.end());
  std::vector<std::string_view> out;
  for (auto& [d, n] : scored) out.push_back(n);
  return out;
}

}  // namespace bkp::cli
