// Azure Storage "Shared Key" request signing (the Blob service's
// Authorization: SharedKey account:signature header), per Microsoft's
// "Authorize with Shared Key": HMAC-SHA256 with the base64-decoded account
// key over VERB, twelve standard header lines, the canonicalized x-ms-*
// headers and the canonicalized resource.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/http_client.hpp"
#include "storage/sigv4.hpp"
#include "util/result.hpp"
#include "util/secret.hpp"

namespace bkp::storage::azure {

struct RequestToSign {
  std::string_view method;
  std::string_view account;
  // The URL path exactly as sent (percent-encoded once), e.g.
  // "/container/dir/blob" or, on Azurite, "/devstoreaccount1/container/blob".
  std::string_view path;
  sigv4::QueryParams query;  // decoded names and values, SAS excluded
  http::Headers headers;     // every header sent (names in any case)
  std::uint64_t content_length = 0;
};

// The string-to-sign of the 2015-02-21+ service versions (Content-Length
// empty when zero).
std::string string_to_sign(const RequestToSign& request);

// "SharedKey <account>:<base64 signature>".
std::string authorization(const RequestToSign& request, const util::SecretBytes& key);

// The account key as configured (base64) to its bytes; ErrorKind::usage when
// it is not valid base64. The message never contains the key.
util::Result<util::SecretBytes> decode_account_key(std::string_view base64);

std::string base64(util::ByteView data);

// "Fri, 27 Nov 2026 00:00:00 GMT" (RFC 1123), for x-ms-date.
std::string http_date_now();

}  // namespace bkp::storage::azure
