// The AWS shared credentials file (~/.aws/credentials, or
// AWS_SHARED_CREDENTIALS_FILE), read for S3 when neither the configuration
// nor the environment holds keys: an INI file of [profile] sections with
// aws_access_key_id, aws_secret_access_key and aws_session_token.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "storage/sigv4.hpp"
#include "util/result.hpp"

namespace bkp::storage {

// The keys of `profile` in the file's text; nullopt when the file has no
// such section. ErrorKind::usage (never quoting a value) when the section
// lacks one of the two keys.
util::Result<std::optional<sigv4::Credentials>> parse_shared_credentials(std::string_view text,
                                                                         std::string_view profile,
                                                                         std::string_view what);

// Reads AWS_SHARED_CREDENTIALS_FILE, else $HOME/.aws/credentials, for
// AWS_PROFILE (else "default"). nullopt when the file does not exist, or
// when it lacks the default profile; a profile named by AWS_PROFILE that is
// missing is ErrorKind::usage. A file that group or others may read is
// refused (ErrorKind::usage, with a chmod hint): it holds secrets.
util::Result<std::optional<sigv4::Credentials>> read_shared_credentials();

}  // namespace bkp::storage
