#include "gcs_double.hpp"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "storage/http_client.hpp"
#include "util/fs.hpp"
#include "util/subprocess.hpp"

namespace bkp::test {

namespace {

std::string read_all(const std::filesystem::path& p) {
  auto text = util::read_text_file(p);
  REQUIRE(text.ok());
  return *text;
}

// An RSA key as a PKCS#8 PEM, as Google's key files carry it.
bool make_key(const std::filesystem::path& out, std::string& why) {
  auto r = util::run_capture({"openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                              "rsa_keygen_bits:2048", "-out", out.string()});
  if (!r.ok() || r->status != 0) {
    why = "openssl genpkey failed";
    return false;
  }
  return true;
}

void write_key_file(const std::filesystem::path& path, const std::string& pem,
                    const std::string& token_uri) {
  nlohmann::json key = {{"type", "service_account"},
                        {"project_id", "bkp-project"},
                        {"private_key_id", "0123456789abcdef"},
                        {"private_key", pem},
                        {"client_email", GcsDouble::client_email},
                        {"client_id", "1234567890"},
                        {"auth_uri", "https://accounts.google.com/o/oauth2/auth"},
                        {"token_uri", token_uri}};
  REQUIRE(util::write_file_atomic(path, util::as_bytes(key.dump(2)), 0600).ok());
}

storage::http::Response call(const std::string& method, const std::string& url) {
  static storage::http::Client client;
  storage::http::Request request;
  request.method = method;
  request.url = url;
  auto r = client.perform(request);
  REQUIRE(r.ok());
  REQUIRE(r->status == 200);
  return std::move(*r);
}

}  // namespace

std::unique_ptr<GcsDouble> GcsDouble::start(std::string& why, int token_lifetime) {
  std::unique_ptr<GcsDouble> d(new GcsDouble());
  auto key = d->dir() / "key.pem";
  auto wrong = d->dir() / "wrong.pem";
  auto pub = d->dir() / "pub.pem";
  if (!make_key(key, why) || !make_key(wrong, why)) return nullptr;
  auto r =
      util::run_capture({"openssl", "pkey", "-in", key.string(), "-pubout", "-out", pub.string()});
  if (!r.ok() || r->status != 0) {
    why = "openssl pkey -pubout failed";
    return nullptr;
  }
  auto started =
      ScriptServer::start("gcs_double.py",
                          {"--public-key", pub.string(), "--client-email", client_email, "--bucket",
                           bucket, "--token-lifetime", std::to_string(token_lifetime)},
                          {"cryptography"}, why);
  if (!started) return nullptr;
  d->server_.emplace(std::move(*started));
  std::string token_uri = d->server_->info()["token_uri"];
  d->key_file_ = d->dir() / "service-account.json";
  d->wrong_key_file_ = d->dir() / "wrong-service-account.json";
  write_key_file(d->key_file_, read_all(key), token_uri);
  write_key_file(d->wrong_key_file_, read_all(wrong), token_uri);
  return d;
}

nlohmann::json GcsDouble::stats() const {
  auto r = call("GET", endpoint() + "/_stats");
  return nlohmann::json::parse(r.body.begin(), r.body.end());
}

void GcsDouble::revoke_tokens() const { (void)call("POST", endpoint() + "/_revoke"); }

void GcsDouble::fail_next(int count, int status) const {
  (void)call("POST", endpoint() + "/_fail?count=" + std::to_string(count) +
                         "&status=" + std::to_string(status));
}

}  // namespace bkp::test
