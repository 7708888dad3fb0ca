// From a location and the configured options (falling back to the
// environment) to an S3Backend.
#include <cctype>

#include "storage/aws_credentials.hpp"
#include "storage/s3.hpp"
#include "util/env.hpp"

namespace bkp::storage {

using util::ErrorKind;
using util::fail;

namespace {

// The classes S3 reads at once, upper case as the API spells them. GLACIER
// and DEEP_ARCHIVE need a restore of hours before a GET: restore and verify
// could not read such packs, so they are refused.
util::Result<std::string> storage_class(std::string_view configured) {
  std::string upper(configured);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (std::string_view known : {"", "STANDARD", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING",
                                 "GLACIER_IR", "REDUCED_REDUNDANCY"}) {
    if (upper == known) return upper;
  }
  return fail(ErrorKind::usage,
              "s3.storage_class must be STANDARD, STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, "
              "GLACIER_IR or REDUCED_REDUNDANCY, not '" +
                  std::string(configured) +
                  "' (GLACIER and DEEP_ARCHIVE cannot be read without "
                  "a restore)");
}

}  // namespace

util::Result<std::unique_ptr<Backend>> open_s3_backend(std::string_view location,
                                                       const BackendOptions& options) {
  BKP_ASSIGN(auto where, parse_s3_location(location));
  S3Options s3;
  s3.endpoint =
      util::configured_or_env(options.s3_endpoint, {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"});
  s3.region =
      util::configured_or_env(options.s3_region, {"AWS_REGION", "AWS_DEFAULT_REGION", "S3_REGION"});
  if (options.s3_addressing == "path") {
    s3.addressing = S3Addressing::path;
  } else if (options.s3_addressing == "virtual") {
    s3.addressing = S3Addressing::virtual_host;
  } else if (!options.s3_addressing.empty() && options.s3_addressing != "auto") {
    return fail(ErrorKind::usage,
                "s3.addressing must be auto, path or virtual, not '" + options.s3_addressing + "'");
  }
  s3.credentials.access_key_id =
      util::configured_or_env(options.s3_access_key_id, {"AWS_ACCESS_KEY_ID", "S3_ACCESS_KEY_ID"});
  std::string secret = util::configured_or_env(options.s3_secret_access_key,
                                               {"AWS_SECRET_ACCESS_KEY", "S3_SECRET_ACCESS_KEY"});
  s3.credentials.secret_access_key = util::SecretBytes(util::as_bytes(secret));
  util::wipe(secret.data(), secret.size());
  s3.credentials.session_token =
      util::configured_or_env(options.s3_session_token, {"AWS_SESSION_TOKEN"});
  // Last, the shared credentials file, whole: keys from two places never mix.
  if (s3.credentials.access_key_id.empty() && s3.credentials.secret_access_key.empty()) {
    BKP_ASSIGN(auto shared, read_shared_credentials());
    if (shared) s3.credentials = std::move(*shared);
  }
  BKP_ASSIGN(s3.storage_class, storage_class(options.s3_storage_class));
  if (options.s3_object_lock_days < 0 || options.s3_object_lock_days > 36500) {
    return fail(ErrorKind::usage, "s3.object_lock_days must be 0 (no lock) to 36500, not " +
                                      std::to_string(options.s3_object_lock_days));
  }
  s3.object_lock_days = options.s3_object_lock_days;
  if (!options.s3_object_lock_mode.empty()) {
    std::string mode = options.s3_object_lock_mode;
    for (char& c : mode) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (mode != "COMPLIANCE" && mode != "GOVERNANCE") {
      return fail(ErrorKind::usage, "s3.object_lock_mode must be compliance or governance, not '" +
                                        options.s3_object_lock_mode + "'");
    }
    s3.object_lock_mode = mode;
  }
  if (options.s3_multipart_threshold > 0) s3.multipart_threshold = options.s3_multipart_threshold;
  if (options.insecure_http) s3.client.plain_http = http::PlainHttp::allowed;
  s3.client.max_send_speed = options.limit_upload;
  s3.client.max_recv_speed = options.limit_download;
  BKP_ASSIGN(auto backend, S3Backend::open(std::move(where), std::move(s3)));
  return std::unique_ptr<Backend>(std::move(backend));
}

}  // namespace bkp::storage
