// The S3 backend: objects under s3://bucket/prefix on AWS or any
// S3-compatible service, over http_client with SigV4 signatures, retries and
// classified errors. Large objects go up in multipart uploads (aborted on
// failure); create-only writes use If-None-Match: *.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "storage/backend.hpp"
#include "storage/http_client.hpp"
#include "storage/http_retry.hpp"
#include "storage/sigv4.hpp"

namespace bkp::storage {

enum class S3Addressing { path, virtual_host };

struct S3Location {
  std::string bucket;
  std::string prefix;  // "" or "a/b/" (always ending in '/')
};

// "s3://bucket" or "s3://bucket/some/prefix"; ErrorKind::usage otherwise.
util::Result<S3Location> parse_s3_location(std::string_view location);

struct S3Options {
  // "https://s3.REGION.amazonaws.com" when empty; an S3-compatible service
  // names its own, e.g. "http://127.0.0.1:9000" (plain http to loopback).
  std::string endpoint;
  std::string region = "us-east-1";
  // Virtual-host style for AWS; path style for any other endpoint, and for
  // buckets whose names are not valid host labels.
  std::optional<S3Addressing> addressing;
  sigv4::Credentials credentials;
  std::uint64_t multipart_threshold = std::uint64_t{64} << 20;
  std::uint64_t part_size = std::uint64_t{16} << 20;  // S3's minimum is 5 MiB
  // Sent as x-amz-storage-class on objects under data/ (the packs, the
  // bulk of a repository), e.g. STANDARD_IA or GLACIER_IR; the small, often
  // read objects keep the bucket's default. Empty: the default everywhere.
  std::string storage_class;
  // S3 Object Lock on objects under data/: x-amz-object-lock-mode and a
  // retain-until date this many days from the upload (0: none), with the
  // Content-MD5 S3 requires on such uploads. Until then no credential can
  // delete the pack's version (a DELETE only adds a delete marker).
  int object_lock_days = 0;
  std::string object_lock_mode = "COMPLIANCE";
  http::ClientOptions client;
  http::RetryPolicy retry;
  // How the backend names itself in kind() and describe(): "s3" and
  // "s3://", or "gcs" and "gs://" when Google Cloud Storage's XML API is
  // reached through this code with HMAC keys (gcs_open.cpp).
  std::string kind = "s3";
  std::string scheme = "s3://";
};

class S3Backend final : public Backend {
 public:
  // Checks the endpoint (http(s), plain http only to loopback unless
  // allowed) and the credentials; ErrorKind::usage when unusable.
  static util::Result<std::unique_ptr<S3Backend>> open(S3Location location, S3Options options);
  ~S3Backend() override;

  std::string describe() const override;
  std::string_view kind() const override { return options_.kind; }
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

  // One signed request with retries; any HTTP status comes back as a
  // Response. `key` is the full object key ("" for the bucket itself).
  struct Call {
    std::string method;
    std::string key;
    sigv4::QueryParams query;
    http::Headers headers;
    util::ByteView body;
  };
  // `attempts`, when given, receives how many tries it took.
  util::Result<http::Response> send(const Call& call, int* attempts = nullptr);

 private:
  S3Backend(S3Location location, S3Options options, std::string scheme, std::string host,
            std::string base_path);
  util::Status put_multipart(std::string_view name, util::ByteView data, WriteMode mode);
  std::string key_of(std::string_view name) const { return location_.prefix + std::string(name); }
  // x-amz-storage-class for `name`, if it gets one.
  void add_storage_class(std::string_view name, http::Headers& headers) const;
  // The Object Lock headers of a pack upload (or of its multipart start).
  bool locked(std::string_view name) const {
    return options_.object_lock_days > 0 && name.substr(0, 5) == "data/";
  }
  void add_object_lock(http::Headers& headers) const;

  S3Location location_;
  S3Options options_;
  std::string scheme_;     // "https"
  std::string host_;       // "bucket.s3.amazonaws.com" or "127.0.0.1:9000"
  std::string base_path_;  // "" or "/bucket" (path style), no trailing '/'
  http::Client client_;
};

// The base64 MD5 of a body, for Content-MD5 (S3 requires it on uploads
// under Object Lock).
std::string content_md5(util::ByteView data);

}  // namespace bkp::storage
