// Google service-account credentials: the JSON key file a user downloads
// from the Cloud console, and the JWT bearer assertion (RFC 7523) signed
// RS256 with its private key that the key's token_uri exchanges for an
// OAuth2 access token. Pure functions: the clock and the network stay
// outside, so tests can check a signature against the public key.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/bytes.hpp"
#include "util/result.hpp"
#include "util/secret.hpp"

namespace bkp::storage::gcs {

struct ServiceAccountKey {
  std::string client_email;
  std::string private_key_id;  // the JWT's "kid"; may be empty
  std::string token_uri;       // default https://oauth2.googleapis.com/token
  util::SecretBytes private_key_pem;
};

inline constexpr std::string_view default_token_uri = "https://oauth2.googleapis.com/token";
inline constexpr std::string_view read_write_scope =
    "https://www.googleapis.com/auth/devstorage.read_write";

// Parses a key file's text ("type": "service_account"). ErrorKind::usage,
// naming `what` (the file) but never quoting the key, when a field is
// missing or the JSON is invalid.
util::Result<ServiceAccountKey> parse_service_account_key(std::string_view json,
                                                          std::string_view what);

// Reads and parses the key file at `path`. Refuses a file that group or
// others may read (it holds a private key that grants access to the bucket):
// ErrorKind::usage with a chmod hint.
util::Result<ServiceAccountKey> read_service_account_key(const std::string& path);

// base64url without padding (RFC 7515 section 2).
std::string base64url(util::ByteView data);

// "header.claims.signature": {"alg":"RS256","typ":"JWT","kid":...} and
// {"iss":client_email,"scope":scope,"aud":token_uri,"iat":now,"exp":now+3600}.
// ErrorKind::usage when the private key is not an RSA key in PEM.
util::Result<std::string> make_assertion(const ServiceAccountKey& key, std::string_view scope,
                                         std::int64_t now);

}  // namespace bkp::storage::gcs
