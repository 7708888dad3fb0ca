// From a location and the configured options (falling back to the
// environment) to an S3Backend.
#include <charconv>
#include <cstdlib>

#include "storage/s3.hpp"

namespace bkp::storage {

using util::ErrorKind;
using util::fail;

namespace {

// The first non-empty of `configured` and the named environment variables.
std::string pick(const std::string& configured, std::initializer_list<const char*> names) {
  if (!configured.empty()) return configured;
  for (const char* name : names) {
    if (const char* v = std::getenv(name); v != nullptr && *v != '\0') return v;
  }
  return {};
}

}  // namespace

util::Result<std::unique_ptr<Backend>> open_s3_backend(std::string_view location,
                                                       const BackendOptions& options) {
  BKP_ASSIGN(auto where, parse_s3_location(location));
  S3Options s3;
  s3.endpoint = pick(options.s3_endpoint, {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"});
  s3.region = pick(options.s3_region, {"AWS_REGION", "AWS_DEFAULT_REGION", "S3_REGION"});
  if (options.s3_addressing == "path") {
    s3.addressing = S3Addressing::path;
  } else if (options.s3_addressing == "virtual") {
    s3.addressing = S3Addressing::virtual_host;
  } else if (!options.s3_addressing.empty() && options.s3_addressing != "auto") {
    return fail(ErrorKind::usage,
                "s3.addressing must be auto, path or virtual, not '" + options.s3_addressing + "'");
  }
  s3.credentials.access_key_id =
      pick(options.s3_access_key_id, {"AWS_ACCESS_KEY_ID", "S3_ACCESS_KEY_ID"});
  std::string secret =
      pick(options.s3_secret_access_key, {"AWS_SECRET_ACCESS_KEY", "S3_SECRET_ACCESS_KEY"});
  s3.credentials.secret_access_key = util::SecretBytes(util::as_bytes(secret));
  util::wipe(secret.data(), secret.size());
  s3.credentials.session_token = pick(options.s3_session_token, {"AWS_SESSION_TOKEN"});
  if (options.s3_multipart_threshold > 0) s3.multipart_threshold = options.s3_multipart_threshold;
  if (options.insecure_http) s3.client.plain_http = http::PlainHttp::allowed;
  BKP_ASSIGN(auto backend, S3Backend::open(std::move(where), std::move(s3)));
  return std::unique_ptr<Backend>(std::move(backend));
}

}  // namespace bkp::storage
