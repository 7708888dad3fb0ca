// The Google Cloud Storage backend on the JSON API, for service-account
// credentials: objects under gs://bucket/prefix, each request carrying an
// OAuth2 bearer token from gcs_token.hpp, with the HTTP layer's retries and
// classified errors. Uploads are single requests (media upload, or a
// resumable session finished in one PUT when a storage class is set), so
// readers see all of an object or none; create-only writes use
// ifGenerationMatch=0. (HMAC keys go through the S3 code on the XML API
// instead: see gcs_open.cpp.)
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "storage/backend.hpp"
#include "storage/gcs_token.hpp"
#include "storage/http_client.hpp"
#include "storage/http_retry.hpp"
#include "storage/sigv4.hpp"

namespace bkp::storage {

struct GcsLocation {
  std::string bucket;
  std::string prefix;  // "" or "a/b/" (always ending in '/')
};

// "gs://bucket" or "gs://bucket/some/prefix"; ErrorKind::usage otherwise.
util::Result<GcsLocation> parse_gcs_location(std::string_view location);

inline constexpr std::string_view gcs_default_endpoint = "https://storage.googleapis.com";

struct GcsOptions {
  std::string endpoint;  // gcs_default_endpoint when empty
  gcs::ServiceAccountKey key;
  // For objects under data/ (the packs): "" (the bucket's default class),
  // STANDARD, NEARLINE, COLDLINE or ARCHIVE. Other objects keep the default.
  std::string storage_class;
  int list_page_size = 0;  // 0: the service's default (1000)
  http::ClientOptions client;
  http::RetryPolicy retry;
};

class GcsBackend final : public Backend {
 public:
  // Checks the endpoint and the key's token_uri (http(s), plain http only
  // to loopback unless allowed); ErrorKind::usage when unusable. No request
  // is sent: the first token is fetched by the first operation.
  static util::Result<std::unique_ptr<GcsBackend>> open(GcsLocation location, GcsOptions options);
  ~GcsBackend() override;

  std::string describe() const override;
  std::string_view kind() const override { return "gcs"; }
  unsigned parallel_reads() const override { return 8; }
  util::Status put(std::string_view name, util::ByteView data, WriteMode mode) override;
  util::Result<util::Bytes> get(std::string_view name) override;
  util::Result<util::Bytes> get_range(std::string_view name, std::uint64_t offset,
                                      std::uint64_t length) override;
  util::Result<ObjectInfo> stat(std::string_view name) override;
  util::Status list(std::string_view prefix,
                    const std::function<util::Status(const ObjectInfo&)>& fn) override;
  util::Status remove(std::string_view name) override;
  util::Result<bool> container_exists() override;
  util::Status create_container() override;

  // One authorized request with retries. `url` is absolute (the endpoint's
  // path or a resumable session's); a 401 drops the token and tries once
  // more with a fresh one. Any HTTP status comes back as a Response.
  struct Call {
    std::string method;
    std::string url;
    http::Headers headers;
    util::ByteView body;
  };
  util::Result<http::Response> send(const Call& call, int* attempts = nullptr);
  // Token exchanges so far (tests check the cache).
  int token_exchanges() const { return tokens_->exchanges(); }

 private:
  GcsBackend(GcsLocation location, GcsOptions options, std::string endpoint);
  std::string object_url(std::string_view name, const sigv4::QueryParams& query = {}) const;
  std::string upload_url(std::string_view name, std::string_view upload_type, WriteMode mode) const;
  util::Result<http::Response> upload(std::string_view name, util::ByteView data, WriteMode mode,
                                      int& attempts);
  std::string object_of(std::string_view name) const {
    return location_.prefix + std::string(name);
  }

  GcsLocation location_;
  GcsOptions options_;
  std::string endpoint_;  // without a trailing '/'
  http::Client client_;
  std::unique_ptr<gcs::TokenSource> tokens_;
};

// The message for an error answer of the JSON API ({"error": {"code",
// "message", "errors": [{"reason"}]}}), classified by status, with a hint
// about the service account on 401/403.
util::Error gcs_error(const http::Response& response, std::string_view what);

}  // namespace bkp::storage
