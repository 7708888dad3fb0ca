#include "audit_trail.hpp"

#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "engine/backup.hpp"
#include "repo/audit_log.hpp"
#include "repository_access.hpp"
#include "util/host.hpp"
#include "util/time.hpp"

namespace bkp::cli {

namespace {

// An option whose value may be a secret. --password-file and --key-file
// name a file, which is worth keeping; --password-command and --key-command
// may hold the secret itself ("echo hunter2"), so their values go.
bool secret_option(std::string_view name) {
  std::string n(name);
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
  if (n.ends_with("-file")) return false;
  for (const char* word : {"password", "passphrase", "secret", "token", "command", "credential"})
    if (n.find(word) != std::string::npos) return true;
  return false;
}

catalog::AuditRow base_row(std::string_view command, int argc, char** argv, int result) {
  catalog::AuditRow row;
  row.time = util::now_rfc3339();
  row.user = util::user_name();
  row.uid = static_cast<std::int64_t>(::geteuid());
  row.host = util::host_name();
  row.command = std::string(command);
  row.args = nlohmann::json(redact_arguments(argc, argv)).dump();
  row.result = result;
  return row;
}

}  // namespace

std::vector<std::string> redact_arguments(int argc, char** argv) {
  std::vector<std::string> out;
  bool redact_next = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (redact_next) {
      out.emplace_back("<redacted>");
      redact_next = false;
      continue;
    }
    if (arg.starts_with("-")) {
      auto eq = arg.find('=');
      auto name = arg.substr(0, eq);
      if (secret_option(name)) {
        if (eq == std::string_view::npos) {
          redact_next = true;
          out.emplace_back(arg);
        } else {
          out.push_back(std::string(name) + "=<redacted>");
        }
        continue;
      }
    }
    out.push_back(config::redact_url(arg));
  }
  return out;
}

void record_audit(Context& ctx, std::string_view command, int argc, char** argv, int result) {
  // The primary repository and any other a command opened (copy's other
  // side, replicas): each keeps its own chain, so each gets the entry.
  std::vector<repo::Repository*> repos;
  if (ctx.repo) repos.push_back(ctx.repo.get());
  for (auto& r : ctx.other_repos)
    if (r) repos.push_back(r.get());
  for (auto* repo : repos) {
    auto row = base_row(command, argc, argv, result);
    auto& notes = ctx.audit;
    std::vector<std::string> keys{"slot:" + repo->slot().id};
    for (auto& k : notes.keys)
      if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
    std::vector<std::string> snaps;
    for (auto& s : notes.snapshots)
      if (std::find(snaps.begin(), snaps.end(), s) == snaps.end()) snaps.push_back(s);
    row.snapshots = nlohmann::json(snaps).dump();
    row.keys = nlohmann::json(keys).dump();
    if (auto st = repo::append_audit(*repo, std::move(row)); !st) {
      ctx.out.warn("could not record the audit log entry in '" + repo->backend().describe() +
                   "': " + st.error().message);
    }
  }
}

void record_unopened(const Context& ctx, std::string_view command, int argc, char** argv,
                     const util::Error& error) {
  if (error.kind != util::ErrorKind::wrong_key) return;
  auto location = repository_location(ctx);
  if (!location) return;
  auto backend = open_storage(ctx, *location);
  if (!backend) return;
  auto config_bytes = (*backend)->get("config");
  if (!config_bytes) return;
  auto config = repo::RepoConfig::decode(*config_bytes);
  if (!config) return;
  std::filesystem::path path = repo::default_catalog_path(config->id);
  if (auto c = ctx.config.get("catalog"); c && !c->empty()) path = *c;
  auto cat = catalog::Catalog::open(path);
  if (!cat) return;
  // Never write into a catalog of another repository.
  auto known = cat->get_meta("repository_id");
  if (!known || (*known && **known != config->id)) return;
  if (!*known && !cat->set_meta("repository_id", config->id)) return;
  auto row = base_row(command, argc, argv,
                      error.kind == util::ErrorKind::wrong_key ? util::exit_code(error.kind) : 1);
  if (auto st = repo::record_pending_audit(*cat, std::move(row)); !st) {
    ctx.out.warn("could not record the audit log entry: " + st.error().message);
  }
}

}  // namespace bkp::cli
