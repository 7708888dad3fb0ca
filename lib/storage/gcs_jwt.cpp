#include "storage/gcs_jwt.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <cerrno>
#include <memory>
#include <nlohmann/json.hpp>

#include "util/fs.hpp"

namespace bkp::storage::gcs {

using util::ErrorKind;
using util::fail;

namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};

std::string field(const nlohmann::json& doc, const char* name) {
  auto it = doc.find(name);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

util::Result<ServiceAccountKey> parse_service_account_key(std::string_view json,
                                                          std::string_view what) {
  const std::string where = "service account key " + std::string(what);
  // No exceptions, and the parser's own message is not used: it may quote
  // the text around the error, which is the private key.
  nlohmann::json doc = nlohmann::json::parse(json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return fail(ErrorKind::usage, where + " is not a JSON object");
  }
  if (auto type = field(doc, "type"); type != "service_account") {
    return fail(ErrorKind::usage,
                where + ": \"type\" is '" + type +
                    "', not 'service_account' (user credentials from 'gcloud auth "
                    "application-default login' are not supported; use a service account key or "
                    "HMAC keys)");
  }
  ServiceAccountKey key;
  key.client_email = field(doc, "client_email");
  key.private_key_id = field(doc, "private_key_id");
  key.token_uri = field(doc, "token_uri");
  if (key.token_uri.empty()) key.token_uri = default_token_uri;
  auto pem = doc.find("private_key");
  if (key.client_email.empty() || pem == doc.end() || !pem->is_string()) {
    return fail(ErrorKind::usage, where + ": \"client_email\" or \"private_key\" is missing");
  }
  const auto& text = pem->get_ref<const std::string&>();
  key.private_key_pem = util::SecretBytes(util::as_bytes(text));
  // The parsed document's copy of the key goes away with `doc`; wipe it first.
  auto& owned = pem->get_ref<std::string&>();
  util::wipe(owned.data(), owned.size());
  return key;
}

util::Result<ServiceAccountKey> read_service_account_key(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    return fail(ErrorKind::usage,
                util::errno_error("reading service account key", path, err).message);
  }
  if ((st.st_mode & 077) != 0) {
    return fail(ErrorKind::usage, "service account key '" + path +
                                      "' may be read by group or others: it grants access to the "
                                      "bucket; run chmod 600 on it");
  }
  auto text = util::read_text_file(path);
  if (!text) return fail(ErrorKind::usage, text.error().message);
  auto key = parse_service_account_key(*text, "'" + path + "'");
  util::wipe(text->data(), text->size());
  return key;
}

std::string base64url(util::ByteView data) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    std::uint32_t v = (std::uint32_t{data[i]} << 16) | (std::uint32_t{data[i + 1]} << 8) |
                      std::uint32_t{data[i + 2]};
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  if (std::size_t rest = data.size() - i; rest > 0) {
    std::uint32_t v = std::uint32_t{data[i]} << 16;
    if (rest == 2) v |= std::uint32_t{data[i + 1]} << 8;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    if (rest == 2) out += alphabet[(v >> 6) & 63];
  }
  return out;
}

util::Result<std::string> make_assertion(const ServiceAccountKey& key, std::string_view scope,
                                         std::int64_t now) {
  nlohmann::json header = {{"alg", "RS256"}, {"typ", "JWT"}};
  if (!key.private_key_id.empty()) header["kid"] = key.private_key_id;
  nlohmann::json claims = {{"iss", key.client_email},
                           {"scope", std::string(scope)},
                           {"aud", key.token_uri},
                           {"iat", now},
                           {"exp", now + 3600}};
  std::string signing_input =
      base64url(util::as_bytes(header.dump())) + "." + base64url(util::as_bytes(claims.dump()));

  const std::string bad_key = "service account key of '" + key.client_email +
                              "': \"private_key\" is not an RSA private key in PEM";
  std::unique_ptr<BIO, BioFree> bio(
      BIO_new_mem_buf(key.private_key_pem.data(), static_cast<int>(key.private_key_pem.size())));
  if (!bio) return fail(ErrorKind::generic, "out of memory reading a private key");
  std::unique_ptr<EVP_PKEY, PkeyFree> pkey(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!pkey || EVP_PKEY_base_id(pkey.get()) != EVP_PKEY_RSA) return fail(ErrorKind::usage, bad_key);
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  std::size_t length = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &length,
                     reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1) {
    return fail(ErrorKind::generic, "signing the token request failed (OpenSSL)");
  }
  util::Bytes signature(length);
  if (EVP_DigestSign(ctx.get(), signature.data(), &length,
                     reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1) {
    return fail(ErrorKind::generic, "signing the token request failed (OpenSSL)");
  }
  signature.resize(length);
  return signing_input + "." + base64url(signature);
}

}  // namespace bkp::storage::gcs
