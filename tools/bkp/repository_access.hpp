// Opening the repository a command names: location from -r/BKP_REPOSITORY/
// config, credentials from a key file or a passphrase, catalog from config.
#pragma once

#include <memory>

#include "context.hpp"
#include "repo/repository.hpp"

namespace bkp::cli {

util::Result<repo::Credentials> read_credentials(const Context& ctx, Confirm confirm);

// A new secret for a key slot (keys add, keys rotate --rewrap): never from
// the command line itself, only from a file, a command, or the terminal.
struct NewSecret {
  std::string password_file, key_file, key_command;
  bool generate_key_file = false;
};
util::Result<repo::Credentials> read_new_credentials(const NewSecret& secret);
util::Result<std::unique_ptr<repo::Repository>> open_repository(const Context& ctx);
// Credentials from the settings PREFIX.password_file, .password_command,
// .key_file or .key_command (at most one), else the primary repository's.
util::Result<repo::Credentials> read_credentials_for(const Context& ctx, std::string_view prefix);
// A repository other than (or besides) the primary one, e.g. the other side
// of `bkp copy` or a replica, opened with read_credentials_for(prefix).
util::Result<std::unique_ptr<repo::Repository>> open_repository_at(const Context& ctx,
                                                                   const std::string& location,
                                                                   std::string_view secret_prefix);
// keys.rotate_after: makes a new data key current when the current one is
// older, if the slot in use may change keys; says so on stderr and in the
// audit entry. A failure is a warning: the command itself goes on.
void rotate_keys_by_age(Context& ctx);
// The location, or a usage error that says how to give one.
util::Result<std::string> repository_location(const Context& ctx);
// The storage backend for a location, with the s3.*, azure.* and insecure_http
// settings of the configuration.
util::Result<std::unique_ptr<storage::Backend>> open_storage(const Context& ctx,
                                                             const std::string& location);

}  // namespace bkp::cli
