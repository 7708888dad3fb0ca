// The dispatcher's side of the audit log: after every command that opened
// the repository, one entry (who, where, what, with which result, touching
// which snapshots and keys) goes into the catalog and the storage; after a
// command that could not open it with the key given, a pending entry goes
// into the catalog only. See doc/compliance.md.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "context.hpp"

namespace bkp::cli {

// The arguments as recorded: values of options that may carry a secret
// (passwords, secrets, tokens, commands that print keys) become
// "<redacted>", and URLs lose their password and credential parameters.
std::vector<std::string> redact_arguments(int argc, char** argv);

// Appends the entry for `command` with exit code `result`. A failure to
// record is a warning: the command's own result stands.
void record_audit(Context& ctx, std::string_view command, int argc, char** argv, int result);
// After open_repository() failed with `error`: a pending catalog entry when
// the error is a wrong key (the catalog can still be found from the
// plaintext config); nothing otherwise.
void record_unopened(const Context& ctx, std::string_view command, int argc, char** argv,
                     const util::Error& error);

}  // namespace bkp::cli
