// From a gs:// location and the configured options (falling back to the
// environment) to a backend: with HMAC keys, the S3 code on GCS's XML API
// (SigV4 is what GCS's interoperability mode accepts); with a
// service-account key file, GcsBackend on the JSON API.
#include <cctype>

#include "storage/gcs.hpp"
#include "storage/s3.hpp"
#include "util/env.hpp"

namespace bkp::storage {

using util::ErrorKind;
using util::fail;

namespace {

// The classes GCS has; all of them are read at once (no restore step), so
// verify and restore work on any. Upper case, as the APIs spell them.
util::Result<std::string> storage_class(std::string_view configured) {
  std::string upper(configured);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper.empty() || upper == "STANDARD" || upper == "NEARLINE" || upper == "COLDLINE" ||
      upper == "ARCHIVE") {
    return upper;
  }
  return fail(ErrorKind::usage,
              "gcs.storage_class must be STANDARD, NEARLINE, COLDLINE or "
              "ARCHIVE, not '" +
                  std::string(configured) + "'");
}

http::ClientOptions client_options(const BackendOptions& options) {
  http::ClientOptions client;
  if (options.insecure_http) client.plain_http = http::PlainHttp::allowed;
  client.max_send_speed = options.limit_upload;
  client.max_recv_speed = options.limit_download;
  return client;
}

util::Result<std::unique_ptr<Backend>> open_hmac(GcsLocation where, const BackendOptions& options,
                                                 std::string data_class, std::string endpoint,
                                                 std::string access_key_id, std::string secret) {
  S3Options s3;
  s3.endpoint = std::move(endpoint);
  // GCS takes any region in the signature; "auto" is the one it documents.
  s3.region = "auto";
  s3.addressing = S3Addressing::path;
  s3.credentials.access_key_id = std::move(access_key_id);
  s3.credentials.secret_access_key = util::SecretBytes(util::as_bytes(secret));
  util::wipe(secret.data(), secret.size());
  if (options.s3_multipart_threshold > 0) s3.multipart_threshold = options.s3_multipart_threshold;
  s3.storage_class = std::move(data_class);
  s3.client = client_options(options);
  s3.kind = "gcs";
  s3.scheme = "gs://";
  BKP_ASSIGN(
      auto backend,
      S3Backend::open(S3Location{std::move(where.bucket), std::move(where.prefix)}, std::move(s3)));
  return std::unique_ptr<Backend>(std::move(backend));
}

}  // namespace

util::Result<std::unique_ptr<Backend>> open_gcs_backend(std::string_view location,
                                                        const BackendOptions& options) {
  BKP_ASSIGN(auto where, parse_gcs_location(location));
  BKP_ASSIGN(auto data_class, storage_class(options.gcs_storage_class));
  std::string endpoint =
      options.gcs_endpoint.empty() ? std::string(gcs_default_endpoint) : options.gcs_endpoint;
  std::string access_key_id =
      util::configured_or_env(options.gcs_hmac_access_key_id, {"GCS_HMAC_ACCESS_KEY_ID"});
  std::string secret = util::configured_or_env(options.gcs_hmac_secret, {"GCS_HMAC_SECRET"});
  if (!access_key_id.empty() && !secret.empty()) {
    return open_hmac(std::move(where), options, std::move(data_class), std::move(endpoint),
                     std::move(access_key_id), std::move(secret));
  }
  util::wipe(secret.data(), secret.size());
  if (!access_key_id.empty()) {
    return fail(ErrorKind::usage, "opening '" + std::string(location) +
                                      "': an HMAC access key id without its secret: set "
                                      "GCS_HMAC_SECRET or gcs.hmac_secret");
  }
  std::string file =
      util::configured_or_env(options.gcs_credentials_file, {"GOOGLE_APPLICATION_CREDENTIALS"});
  if (file.empty()) {
    return fail(ErrorKind::usage,
                "opening '" + std::string(location) +
                    "': no GCS credentials: set GOOGLE_APPLICATION_CREDENTIALS (or "
                    "gcs.credentials_file) to a service account key file, or "
                    "GCS_HMAC_ACCESS_KEY_ID and GCS_HMAC_SECRET to HMAC keys");
  }
  GcsOptions gcs;
  gcs.endpoint = options.gcs_endpoint;
  BKP_ASSIGN(gcs.key, gcs::read_service_account_key(file));
  gcs.storage_class = std::move(data_class);
  gcs.list_page_size = options.gcs_list_page_size;
  gcs.client = client_options(options);
  BKP_ASSIGN(auto backend, GcsBackend::open(std::move(where), std::move(gcs)));
  return std::unique_ptr<Backend>(std::move(backend));
}

}  // namespace bkp::storage
