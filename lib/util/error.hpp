// Error kinds and their stable exit codes. The table in exit_code() is the
// one documented in bkp(1); a change here is a change of public interface.
#pragma once

#include <string>
#include <string_view>

namespace bkp::util {

enum class ErrorKind {
  generic,       // anything without a more precise kind
  usage,         // bad flags, bad arguments, bad configuration
  partial,       // the job ran but skipped something (unreadable files)
  no_repository, // nothing at the location, or not a bkp repository
  locked,        // another process holds what we need exclusively
  wrong_key,     // the passphrase or key file opens no key slot
  verification,  // stored data failed authentication or is missing
  interrupted,   // SIGINT/SIGTERM
  not_found,     // a named object/snapshot/file does not exist
  exists,        // create-only target already exists
  io,            // local I/O failure (disk full, permission)
  corrupt,       // data failed to decode after authentication passed
  auth,          // storage refused our credentials
  transient,     // retry may help (timeouts, 5xx, resets)
  permission,    // a key slot's role does not allow this
};

struct Error {
  ErrorKind kind = ErrorKind::generic;
  std::string message;

  // Prefixes context, in the style "opening 'x': <inner message>".
  Error context(std::string_view what) const;
};

Error make_error(ErrorKind kind, std::string message);

// Exit status for an error kind (0 is success, never returned here).
int exit_code(ErrorKind kind);
std::string_view kind_name(ErrorKind kind);

// Exit codes that are not errors of lib/.
inline constexpr int exit_ok = 0;
inline constexpr int exit_usage = 2;
inline constexpr int exit_partial = 3;

}  // namespace bkp::util
