#include "storage/s3.hpp"

#include <openssl/evp.h>
#include <algorithm>
#include <cctype>
#include <ctime>

#include <pugixml.hpp>

#include "storage/cloud.hpp"
#include "storage/http_error.hpp"
#include "storage/http_range.hpp"
#include "util/text.hpp"

namespace bkp::storage {

using util::ErrorKind;
using util::fail;
using util::in_quotes;

namespace {

std::string amz_now() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

// Bucket names usable as a DNS label: lowercase letters, digits, '-', no dots
// (a dot breaks the TLS wildcard certificate of virtual-host addressing).
bool host_safe_bucket(std::string_view bucket) {
  if (bucket.empty() || bucket.front() == '-' || bucket.back() == '-') return false;
  for (char c : bucket) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '-')) {
      return false;
    }
  }
  return true;
}

bool valid_bucket(std::string_view bucket) {
  if (bucket.size() < 3 || bucket.size() > 63) return false;
  for (char c : bucket) {
    auto u = static_cast<unsigned char>(c);
    if (!(std::islower(u) || std::isdigit(u) || c == '-' || c == '.' || c == '_')) return false;
  }
  return true;
}

}  // namespace

util::Result<S3Location> parse_s3_location(std::string_view location) {
  BKP_ASSIGN(auto parts,
             parse_cloud_location(location, "s3://", "an S3 location looks like s3://bucket/prefix",
                                  valid_bucket,
                                  "invalid bucket name (3 to 63 of lowercase letters, digits, "
                                  "'-', '.')"));
  S3Location out;
  out.bucket = std::move(parts.container);
  out.prefix = std::move(parts.prefix);
  return out;
}

util::Result<std::unique_ptr<S3Backend>> S3Backend::open(S3Location location, S3Options options) {
  if (options.region.empty()) options.region = "us-east-1";
  bool aws = options.endpoint.empty();
  std::string endpoint = aws ? "https://s3." + options.region + ".amazonaws.com" : options.endpoint;
  BKP_ASSIGN(endpoint, checked_endpoint(std::move(endpoint), "S3", options.client));
  if (options.credentials.access_key_id.empty() || options.credentials.secret_access_key.empty()) {
    return fail(ErrorKind::usage,
                "opening " + in_quotes("s3://" + location.bucket) +
                    ": no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or "
                    "S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY), or use a profile of "
                    "~/.aws/credentials");
  }
  if (options.part_size < (std::uint64_t{5} << 20)) options.part_size = std::uint64_t{5} << 20;
  auto sep = endpoint.find("://");
  std::string scheme = endpoint.substr(0, sep);
  std::string authority = endpoint.substr(sep + 3);
  std::string base_path;
  if (auto p = authority.find('/'); p != std::string::npos) {
    base_path = authority.substr(p);
    authority.resize(p);
  }
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto addressing = options.addressing.value_or(
      aws && host_safe_bucket(location.bucket) ? S3Addressing::virtual_host : S3Addressing::path);
  if (addressing == S3Addressing::virtual_host) {
    authority = location.bucket + "." + authority;
  } else {
    base_path += "/" + location.bucket;
  }
  return std::unique_ptr<S3Backend>(new S3Backend(std::move(location), std::move(options),
                                                  std::move(scheme), std::move(authority),
                                                  std::move(base_path)));
}

S3Backend::S3Backend(S3Location location, S3Options options, std::string scheme, std::string host,
                     std::string base_path)
    : location_(std::move(location)),
      options_(std::move(options)),
      scheme_(std::move(scheme)),
      host_(std::move(host)),
      base_path_(std::move(base_path)),
      client_(options_.client) {}

S3Backend::~S3Backend() = default;

std::string S3Backend::describe() const {
  std::string out = options_.scheme + location_.bucket + "/" + location_.prefix;
  if (!out.empty() && out.back() == '/') out.pop_back();
  if (!options_.endpoint.empty()) out += " at " + http::redact_url(options_.endpoint);
  return out;
}

util::Result<http::Response> S3Backend::send(const Call& call, int* attempts) {
  const std::string path = base_path_ + "/" + sigv4::uri_encode(call.key, sigv4::EncodeSlash::no);
  const std::string query = sigv4::canonical_query(call.query);
  const std::string url = scheme_ + "://" + host_ + path + (query.empty() ? "" : "?" + query);
  const std::string payload = sigv4::payload_hash(call.body);
  int tries = 0;
  if (attempts == nullptr) attempts = &tries;
  *attempts = 0;
  return http::with_retries(options_.retry, [&]() -> util::Result<http::Response> {
    ++*attempts;
    http::Request request;
    request.method = call.method;
    request.url = url;
    request.body = call.body;
    request.headers = call.headers;
    const std::string date = amz_now();
    request.headers.emplace_back("host", host_);
    request.headers.emplace_back("x-amz-date", date);
    request.headers.emplace_back("x-amz-content-sha256", payload);
    if (!options_.credentials.session_token.empty()) {
      request.headers.emplace_back("x-amz-security-token", options_.credentials.session_token);
    }
    sigv4::RequestToSign to_sign;
    to_sign.method = call.method;
    to_sign.canonical_uri = path;
    to_sign.query = call.query;
    to_sign.headers = request.headers;
    to_sign.payload_sha256 = payload;
    to_sign.amz_date = date;
    to_sign.region = options_.region;
    request.headers.emplace_back("authorization",
                                 sigv4::sign(to_sign, options_.credentials).authorization);
    return client_.perform(request);
  });
}

void S3Backend::add_storage_class(std::string_view name, http::Headers& headers) const {
  if (!options_.storage_class.empty() && name.substr(0, 5) == "data/") {
    headers.emplace_back("x-amz-storage-class", options_.storage_class);
  }
}

void S3Backend::add_object_lock(http::Headers& headers) const {
  std::time_t until = std::time(nullptr) + std::time_t{86400} * options_.object_lock_days;
  std::tm tm{};
  gmtime_r(&until, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  headers.emplace_back("x-amz-object-lock-mode", options_.object_lock_mode);
  headers.emplace_back("x-amz-object-lock-retain-until-date", buf);
}

std::string content_md5(util::ByteView data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_md5(), nullptr);
  unsigned char out[64] = {};
  int n = EVP_EncodeBlock(out, digest, static_cast<int>(length));
  return std::string(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n));
}

util::Status S3Backend::put(std::string_view name, util::ByteView data, WriteMode mode) {
  BKP_TRY(check_object_name("storing", name));
  if (data.size() > options_.multipart_threshold) return put_multipart(name, data, mode);
  Call call{"PUT", key_of(name), {}, {}, data};
  add_storage_class(name, call.headers);
  if (locked(name)) {
    add_object_lock(call.headers);
    call.headers.emplace_back("Content-MD5", content_md5(data));
  }
  if (mode == WriteMode::create_only) call.headers.emplace_back("If-None-Match", "*");
  int attempts = 0;
  BKP_ASSIGN(auto response, send(call, &attempts));
  if (response.status == 200) return {};
  if (response.status == 412 && mode == WriteMode::create_only) {
    // After a retry, the 412 may answer our own first attempt, which landed
    // although its response was lost: then the object is ours, not a clash.
    if (attempts > 1) {
      if (auto stored = get(name);
          stored.ok() && std::equal(stored->begin(), stored->end(), data.begin(), data.end())) {
        return {};
      }
    }
    return fail(ErrorKind::exists, "storing " + in_quotes(name) + ": object exists");
  }
  return fail(http::response_error(response, "storing " + in_quotes(name)));
}

util::Result<util::Bytes> S3Backend::get(std::string_view name) {
  BKP_TRY(check_object_name("reading", name));
  BKP_ASSIGN(auto response, send({"GET", key_of(name), {}, {}, {}}));
  if (response.status == 200) return std::move(response.body);
  if (response.status == 404) {
    return fail(ErrorKind::not_found, "reading " + in_quotes(name) + ": no such object");
  }
  return fail(http::response_error(response, "reading " + in_quotes(name)));
}

util::Result<util::Bytes> S3Backend::get_range(std::string_view name, std::uint64_t offset,
                                               std::uint64_t length) {
  BKP_TRY(check_object_name("reading", name));
  return http::get_range(
      http::RangeRequest{name, offset, length,
                         [&]() -> util::Result<std::uint64_t> {
                           BKP_ASSIGN(auto info, stat(name));
                           return info.size;
                         },
                         [&](const std::string& range) {
                           return send(Call{"GET", key_of(name), {}, {{"Range", range}}, {}});
                         },
                         [](const http::Response& response, const std::string& what) {
                           return http::response_error(response, what);
                         }});
}

util::Result<ObjectInfo> S3Backend::stat(std::string_view name) {
  BKP_TRY(check_object_name("inspecting", name));
  BKP_ASSIGN(auto response, send({"HEAD", key_of(name), {}, {}, {}}));
  if (response.status == 404) {
    return fail(ErrorKind::not_found, "reading " + in_quotes(name) + ": no such object");
  }
  if (response.status == 401 || response.status == 403) {
    // A HEAD answer has no body to say why; one byte by GET carries the
    // service's error code (SignatureDoesNotMatch, AccessDenied, ...).
    Call probe{"GET", key_of(name), {}, {{"Range", "bytes=0-0"}}, {}};
    if (auto detail = send(probe);
        detail.ok() && !detail->body.empty() && (detail->status == 401 || detail->status == 403)) {
      response = std::move(*detail);
    }
  }
  if (response.status != 200) {
    return fail(http::response_error(response, "inspecting " + in_quotes(name)));
  }
  return head_object_info(response, name);
}

util::Status S3Backend::list(std::string_view prefix,
                             const std::function<util::Status(const ObjectInfo&)>& fn) {
  const std::string what = "listing " + in_quotes(prefix);
  std::string token;
  for (;;) {
    // encoding-type=url: keys come percent-encoded, so names with characters
    // XML 1.0 cannot carry (control characters) still list.
    Call call{"GET",
              "",
              {{"list-type", "2"}, {"prefix", key_of(prefix)}, {"encoding-type", "url"}},
              {},
              {}};
    if (!token.empty()) call.query.emplace_back("continuation-token", token);
    BKP_ASSIGN(auto response, send(call));
    if (response.status != 200) return fail(http::response_error(response, what));
    pugi::xml_document doc;
    BKP_ASSIGN(pugi::xml_node result, xml_answer(doc, response, "ListBucketResult", what));
    const bool url_encoded = std::string_view(result.child_value("EncodingType")) == "url";
    for (pugi::xml_node item : result.children("Contents")) {
      std::string key = item.child_value("Key");
      if (url_encoded) key = util::percent_decode(key, util::PlusIsSpace::yes);
      auto name = listed_name(key, location_.prefix);
      if (!name) continue;
      auto size = util::parse_number<std::uint64_t>(item.child_value("Size"));
      if (!size) return fail(ErrorKind::generic, what + ": invalid size for " + in_quotes(*name));
      BKP_TRY(fn(ObjectInfo{std::move(*name), *size}));
    }
    if (std::string_view(result.child_value("IsTruncated")) != "true") return {};
    token = result.child_value("NextContinuationToken");
    if (token.empty()) {
      return fail(ErrorKind::generic, what + ": truncated listing without a continuation token");
    }
  }
}

util::Status S3Backend::remove(std::string_view name) {
  BKP_TRY(check_object_name("removing", name));
  BKP_ASSIGN(auto response, send({"DELETE", key_of(name), {}, {}, {}}));
  if (response.status == 204 || response.status == 200 || response.status == 404) return {};
  return fail(http::response_error(response, "removing " + in_quotes(name)));
}

}  // namespace bkp::storage
