#include "storage/sigv4.hpp"

#include <algorithm>
#include <cctype>

#include "crypto/hash.hpp"

namespace bkp::storage::sigv4 {

namespace {

bool unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Header values are trimmed and inner runs of spaces collapse to one.
std::string trim_value(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

util::Bytes hmac(util::ByteView key, std::string_view data) {
  return crypto::hmac_sha256(key, util::as_bytes(data));
}

}  // namespace

std::string uri_encode(std::string_view text, EncodeSlash slash) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (unreserved(c) || (c == '/' && slash == EncodeSlash::no)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

std::string canonical_query(const QueryParams& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) {
    encoded.emplace_back(uri_encode(name, EncodeSlash::yes), uri_encode(value, EncodeSlash::yes));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out.push_back('&');
    out += name;
    out.push_back('=');
    out += value;
  }
  return out;
}

std::string payload_hash(util::ByteView payload) {
  auto digest = crypto::sha256(payload);
  return util::to_hex(digest);
}

Signed sign(const RequestToSign& request, const Credentials& credentials) {
  // Canonical headers: lowercase names, sorted, values trimmed; repeated
  // names join their values with commas.
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& [name, value] : request.headers) {
    headers.emplace_back(lower(name), trim_value(value));
  }
  std::stable_sort(headers.begin(), headers.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string canonical_headers;
  Signed out;
  for (std::size_t i = 0; i < headers.size(); ++i) {
    if (i > 0 && headers[i].first == headers[i - 1].first) {
      canonical_headers.back() = ',';
      canonical_headers += headers[i].second + "\n";
      continue;
    }
    canonical_headers += headers[i].first + ":" + headers[i].second + "\n";
    if (!out.signed_headers.empty()) out.signed_headers.push_back(';');
    out.signed_headers += headers[i].first;
  }

  out.canonical_request = std::string(request.method) + "\n" + std::string(request.canonical_uri) +
                          "\n" + canonical_query(request.query) + "\n" + canonical_headers + "\n" +
                          out.signed_headers + "\n" + std::string(request.payload_sha256);

  const std::string date(request.amz_date.substr(0, 8));
  const std::string scope = date + "/" + std::string(request.region) + "/" +
                            std::string(request.service) + "/aws4_request";
  out.string_to_sign = "AWS4-HMAC-SHA256\n" + std::string(request.amz_date) + "\n" + scope + "\n" +
                       payload_hash(util::as_bytes(out.canonical_request));

  // The signing key is derived from the secret; wipe each step of it.
  util::SecretBytes seed(util::as_bytes("AWS4"));
  util::SecretBytes key(seed.size() + credentials.secret_access_key.size());
  std::copy(seed.data(), seed.data() + seed.size(), key.data());
  std::copy(credentials.secret_access_key.data(),
            credentials.secret_access_key.data() + credentials.secret_access_key.size(),
            key.data() + seed.size());
  for (std::string_view part : {std::string_view(date), request.region, request.service,
                                std::string_view("aws4_request")}) {
    util::Bytes next = hmac(key.view(), part);
    key = util::SecretBytes(next);
    util::wipe(next.data(), next.size());
  }
  out.signature = util::to_hex(hmac(key.view(), out.string_to_sign));
  out.authorization = "AWS4-HMAC-SHA256 Credential=" + credentials.access_key_id + "/" + scope +
                      ",SignedHeaders=" + out.signed_headers + ",Signature=" + out.signature;
  return out;
}

}  // namespace bkp::storage::sigv4
