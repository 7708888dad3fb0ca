// Turns an HTTP error response into a classified util::Error carrying the
// service's own error code and message (the <Error><Code>/<Message> XML of
// S3, GCS and Azure), and never the request's query string or credentials.
#pragma once

#include <string>
#include <string_view>

#include "storage/http_client.hpp"
#include "util/error.hpp"

namespace bkp::storage::http {

struct ServiceError {
  std::string code;     // "NoSuchKey", "SignatureDoesNotMatch", ...
  std::string message;  // the service's sentence, shortened
};

// Empty fields when the body is not such an XML document.
ServiceError parse_service_error(util::ByteView body);

// 404 not_found; 401/403 auth; 408/429/5xx transient; other statuses generic.
util::ErrorKind kind_for_status(long status);

// What to check when the server refuses the credentials (401/403).
inline constexpr std::string_view s3_auth_hint = "check the access key, secret key and region";

// "<what>: HTTP 403 SignatureDoesNotMatch: The request signature ...". A
// bodiless answer (HEAD) takes its code from Azure's x-ms-error-code header.
util::Error response_error(const Response& response, std::string_view what,
                           std::string_view auth_hint = s3_auth_hint);

}  // namespace bkp::storage::http
