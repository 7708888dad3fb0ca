// AWS Signature Version 4 for S3 requests signed in the Authorization header
// (https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html).
// A pure function of its inputs, so AWS's published worked examples are its
// unit tests; the clock and the network stay outside.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/bytes.hpp"
#include "util/secret.hpp"

namespace bkp::storage::sigv4 {

struct Credentials {
  std::string access_key_id;
  util::SecretBytes secret_access_key;
  std::string session_token;  // empty unless temporary credentials
};

// Query parameters as decoded name/value pairs; a parameter without a value
// ("?uploads") has an empty value and is signed as "uploads=".
using QueryParams = std::vector<std::pair<std::string, std::string>>;
using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct RequestToSign {
  std::string_view method;
  std::string_view canonical_uri;  // the path as sent, already encoded once
  QueryParams query;
  HeaderList headers;               // every header to sign, "host" included
  std::string_view payload_sha256;  // hex, or "UNSIGNED-PAYLOAD"
  std::string_view amz_date;        // "20130524T000000Z"
  std::string_view region;
  std::string_view service = "s3";
};

struct Signed {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;  // "host;range;x-amz-date"
  std::string signature;       // lowercase hex
  std::string authorization;   // the Authorization header value
};

enum class EncodeSlash { no, yes };

// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters
// (A-Z a-z 0-9 - _ . ~) stay, everything else becomes %XX with uppercase hex;
// '/' stays only with EncodeSlash::no (object paths).
std::string uri_encode(std::string_view text, EncodeSlash slash);

// "a=1&b=x%2Fy": names and values encoded, sorted by name then value. The
// client sends exactly this string, so what is signed is what is sent.
std::string canonical_query(const QueryParams& query);

Signed sign(const RequestToSign& request, const Credentials& credentials);

// Hex SHA-256 of a payload, for x-amz-content-sha256.
std::string payload_hash(util::ByteView payload);

}  // namespace bkp::storage::sigv4
