// What every command receives: the global options, the effective
// configuration and the output channel.
#pragma once

#include <string>
#include <vector>

#include "config/config.hpp"
#include "output.hpp"
#include "repo/repository.hpp"
#include "util/secret.hpp"

namespace CLI {
class App;
}

namespace bkp::cli {

struct GlobalOptions {
  std::string repo;
  std::string config_file;
  std::string password_file;
  std::string password_command;
  std::string key_file;
  std::string s3_endpoint;
  std::string storage_class;
  std::string limit_upload;
  std::string limit_download;
  bool insecure_http = false;
  std::string key_command;
  bool quiet = false;
  int verbose = 0;
  bool json = false;
  bool no_progress = false;
};

// What a command touched, for its audit log entry (tools/bkp/audit_trail.cpp):
// snapshot ids, and key slot or data key ids ("slot:<id>", "key:<hex>").
// The slot the repository was opened with is added by the dispatcher.
struct AuditNotes {
  std::vector<std::string> snapshots;
  std::vector<std::string> keys;
};

struct Context {
  GlobalOptions global;
  config::Config config;
  Output out;
  CLI::App* root = nullptr;
  // Opened by the dispatcher for commands whose table row needs a key.
  std::unique_ptr<repo::Repository> repo;
  // Repositories a command opened besides `repo` (copy, replicas); they get
  // the command's audit entry too.
  std::vector<std::unique_ptr<repo::Repository>> other_repos;
  AuditNotes audit;

  // The repository location from -r, BKP_REPOSITORY or the config file.
  std::string repository() const { return config.get("repository").value_or(""); }
};

// Reads the passphrase from --password-file, --password-command (their
// environment or config equivalents), or a no-echo prompt on a terminal.
// `confirm` asks twice, for new passphrases.
enum class Confirm { no, yes };
util::Result<util::SecretBytes> read_password(const Context& ctx, Confirm confirm);
// The first line of a file, refused when empty.
util::Result<util::SecretBytes> read_password_file(const std::string& file);
// Asks twice on the terminal, for a new passphrase.
util::Result<util::SecretBytes> prompt_new_password();
// Runs CMD with /bin/sh and reads a passphrase from the first line it prints.
util::Result<util::SecretBytes> run_password_command(const std::string& command);
// Runs CMD (split into words, no shell) and reads a key from its standard
// output: a key file's text or 64 hex digits.
util::Result<util::SecretBytes> run_key_command(const std::string& command);

}  // namespace bkp::cli
