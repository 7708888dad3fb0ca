// Google Cloud Storage: with a service-account key on the JSON API against
// the local double of the token endpoint and object API (gcs_double.py,
// which checks the JWT's RS256 signature), and with HMAC keys on the XML
// API through the S3 code against moto's S3 with signature checking on.
// Neither is Google itself: see doc/storage-gcs.md.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <iostream>
#include <thread>

#include "cloud_fixture.hpp"
#include "conformance.hpp"
#include "gcs_double.hpp"
#include "script_server.hpp"
#include "storage/backend.hpp"
#include "storage/gcs_jwt.hpp"
#include "util/fs.hpp"

namespace bkp::test {

namespace {

const GcsDouble* double_server() {
  static std::string why;
  static std::unique_ptr<GcsDouble> server = GcsDouble::start(why);
  if (!server) std::cout << "BKP-SKIP: GCS tests need the GCS double: " << why << "\n";
  return server.get();
}

storage::BackendOptions json_options(const GcsDouble& d) {
  storage::BackendOptions o;
  o.gcs_endpoint = d.endpoint();
  o.gcs_credentials_file = d.key_file().string();
  return o;
}

int token_requests(const GcsDouble& d) { return d.stats()["token_requests"].get<int>(); }

}  // namespace

TEST_CASE("gcs: base64url has no padding and uses - and _", "[gcs]") {
  using storage::gcs::base64url;
  CHECK(base64url(util::as_bytes("")) == "");
  CHECK(base64url(util::as_bytes("f")) == "Zg");
  CHECK(base64url(util::as_bytes("fo")) == "Zm8");
  CHECK(base64url(util::as_bytes("foo")) == "Zm9v");
  const std::uint8_t raw[] = {0xfb, 0xff, 0xbf};
  CHECK(base64url(util::ByteView(raw, 3)) == "-_-_");
}

TEST_CASE("gcs: service account key files are checked before use", "[gcs]") {
  TempDir dir;
  auto path = (dir.path() / "k.json").string();
  auto write = [&](const std::string& text, mode_t mode) {
    REQUIRE(util::write_file_atomic(path, util::as_bytes(text), mode).ok());
    ::chmod(path.c_str(), mode);
  };
  write(R"({"type":"service_account","client_email":"a@b","private_key":"SECRETPEM"})", 0644);
  auto loose = storage::gcs::read_service_account_key(path);
  REQUIRE_FALSE(loose.ok());
  CHECK(loose.error().kind == util::ErrorKind::usage);
  CHECK(loose.error().message.find("chmod 600") != std::string::npos);

  write(R"({"type":"authorized_user","client_id":"x"})", 0600);
  auto user = storage::gcs::read_service_account_key(path);
  REQUIRE_FALSE(user.ok());
  CHECK(user.error().message.find("not 'service_account'") != std::string::npos);

  write(R"({"type":"service_account","private_key":"SECRETPEM" )", 0600);
  auto broken = storage::gcs::read_service_account_key(path);
  REQUIRE_FALSE(broken.ok());
  CHECK(broken.error().message.find("not a JSON object") != std::string::npos);
  CHECK(broken.error().message.find("SECRETPEM") == std::string::npos);

  write(R"({"type":"service_account","client_email":"a@b","private_key":"SECRETPEM"})", 0600);
  auto key = storage::gcs::read_service_account_key(path);
  REQUIRE(key.ok());
  CHECK(key->token_uri == storage::gcs::default_token_uri);
  auto jwt = storage::gcs::make_assertion(*key, storage::gcs::read_write_scope, 1000);
  REQUIRE_FALSE(jwt.ok());
  CHECK(jwt.error().kind == util::ErrorKind::usage);
  CHECK(jwt.error().message.find("SECRETPEM") == std::string::npos);

  auto missing = storage::gcs::read_service_account_key((dir.path() / "none.json").string());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().kind == util::ErrorKind::usage);
}

TEST_CASE("gcs: gs:// locations and credentials", "[gcs]") {
  storage::BackendOptions none;
  ::unsetenv("GOOGLE_APPLICATION_CREDENTIALS");
  ::unsetenv("GCS_HMAC_ACCESS_KEY_ID");
  ::unsetenv("GCS_HMAC_SECRET");
  auto no_creds = storage::open_backend("gs://bucket/p", none);
  REQUIRE_FALSE(no_creds.ok());
  CHECK(no_creds.error().kind == util::ErrorKind::usage);
  CHECK(no_creds.error().message.find("GOOGLE_APPLICATION_CREDENTIALS") != std::string::npos);
  for (const char* bad : {"gs://", "gs://ab/x", "gs://Upper/x", "gs://-bucket", "gs://b/../x"}) {
    INFO(bad);
    auto r = storage::open_backend(bad, none);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == util::ErrorKind::usage);
  }
  storage::BackendOptions half;
  half.gcs_hmac_access_key_id = "GOOG1EXAMPLE";
  auto only_id = storage::open_backend("gs://bucket/p", half);
  REQUIRE_FALSE(only_id.ok());
  CHECK(only_id.error().message.find("GCS_HMAC_SECRET") != std::string::npos);

  storage::BackendOptions hmac = half;
  hmac.gcs_hmac_secret = "a-secret";
  auto b = storage::open_backend("gs://bucket/some/prefix/", hmac);
  REQUIRE(b.ok());
  CHECK((*b)->kind() == "gcs");
  CHECK((*b)->describe() == "gs://bucket/some/prefix at https://storage.googleapis.com");
  CHECK((*b)->describe().find("a-secret") == std::string::npos);
  // Plain http only to loopback, as for S3 and Azure.
  hmac.gcs_endpoint = "http://storage.example.com";
  CHECK_FALSE(storage::open_backend("gs://bucket/p", hmac).ok());
}

TEST_CASE("gcs (service account, JSON API) passes the conformance suite", "[gcs][gcs-json]") {
  const GcsDouble* d = double_server();
  if (d == nullptr) return;
  auto options = json_options(*d);
  // Packs get a storage class: their uploads take the resumable path, the
  // other objects the media upload; the suite exercises both.
  options.gcs_storage_class = "NEARLINE";
  const std::string location = fresh_location("gs://", GcsDouble::bucket);
  run_backend_conformance([&] { return open_or_fail(location, options); });
}

TEST_CASE("gcs (service account): tokens are cached, refreshed and renewed", "[gcs][gcs-json]") {
  const GcsDouble* d = double_server();
  if (d == nullptr) return;
  auto b = open_or_fail(fresh_location("gs://", GcsDouble::bucket), json_options(*d));
  const int before = token_requests(*d);
  for (int i = 0; i < 20; ++i) {
    REQUIRE(b->put("snapshots/s" + std::to_string(i), util::as_bytes("x"),
                   storage::WriteMode::create_only)
                .ok());
  }
  REQUIRE(b->stat("snapshots/s3").ok());
  // One exchange for all of them: the token is cached.
  CHECK(token_requests(*d) == before + 1);

  // A revoked token is answered 401: the backend gets a new one and goes on.
  const int rejected = d->stats()["rejected_tokens"].get<int>();
  d->revoke_tokens();
  auto got = b->get("snapshots/s1");
  REQUIRE(got.ok());
  CHECK(d->stats()["rejected_tokens"].get<int>() == rejected + 1);
  CHECK(token_requests(*d) == before + 2);
}

TEST_CASE("gcs (service account): a token is refreshed before it expires", "[gcs][gcs-json]") {
  std::string why;
  auto d = GcsDouble::start(why, 4);  // tokens live 4 s here
  if (!d) {
    std::cout << "BKP-SKIP: " << why << "\n";
    return;
  }
  auto b = open_or_fail(fresh_location("gs://", GcsDouble::bucket), json_options(*d));
  const auto start = std::chrono::steady_clock::now();
  int i = 0;
  while (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(5500)) {
    auto name = "index/i" + std::to_string(i++);
    auto st = b->put(name, util::as_bytes(name), storage::WriteMode::create_only);
    REQUIRE(st.ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  auto stats = d->stats();
  // Refreshed at 3 s (a quarter of the lifetime before expiry), never
  // refused for having expired.
  CHECK(stats["token_requests"].get<int>() >= 2);
  CHECK(stats["rejected_tokens"].get<int>() == 0);
}

TEST_CASE("gcs (service account): storage class on packs only", "[gcs][gcs-json]") {
  const GcsDouble* d = double_server();
  if (d == nullptr) return;
  auto options = json_options(*d);
  options.gcs_storage_class = "COLDLINE";
  std::string location = fresh_location("gs://", GcsDouble::bucket);
  auto b = open_or_fail(location, options);
  REQUIRE(b->put("data/ab/pack", util::as_bytes("pack"), storage::WriteMode::create_only).ok());
  REQUIRE(b->put("config", util::as_bytes("cfg"), storage::WriteMode::create_only).ok());
  auto prefix =
      location.substr(std::string("gs://").size() + std::string(GcsDouble::bucket).size() + 1);
  auto classes = d->stats()["classes"];
  CHECK(classes[prefix + "/data/ab/pack"] == "COLDLINE");
  CHECK(classes[prefix + "/config"] == "STANDARD");
  // A second create-only write of the pack is refused at the session start.
  auto again = b->put("data/ab/pack", util::as_bytes("other"), storage::WriteMode::create_only);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().kind == util::ErrorKind::exists);
}

TEST_CASE("gcs (service account): 503 is retried, a wrong key fails at once", "[gcs][gcs-json]") {
  const GcsDouble* d = double_server();
  if (d == nullptr) return;
  auto b = open_or_fail(fresh_location("gs://", GcsDouble::bucket), json_options(*d));
  REQUIRE(b->put("config", util::as_bytes("x"), storage::WriteMode::create_only).ok());
  d->fail_next(2, 503);
  auto got = b->get("config");
  REQUIRE(got.ok());
  CHECK(util::as_chars(*got) == "x");

  auto options = json_options(*d);
  options.gcs_credentials_file = d->wrong_key_file().string();
  auto wrong = open_or_fail(fresh_location("gs://", GcsDouble::bucket), options);
  auto start = std::chrono::steady_clock::now();
  auto st = wrong->put("config", util::as_bytes("x"), storage::WriteMode::create_only);
  REQUIRE_FALSE(st.ok());
  INFO(st.error().message);
  CHECK(st.error().kind == util::ErrorKind::auth);
  CHECK(st.error().message.find("invalid_grant: Invalid JWT Signature.") != std::string::npos);
  CHECK(st.error().message.find(GcsDouble::client_email) != std::string::npos);
  CHECK(st.error().message.find("PRIVATE KEY") == std::string::npos);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));

  // A bucket that does not exist is an error, not an empty listing.
  auto missing = open_or_fail("gs://no-such-bucket/x", json_options(*d));
  auto listed = missing->list("", [](const storage::ObjectInfo&) -> util::Status { return {}; });
  REQUIRE_FALSE(listed.ok());
  CHECK(listed.error().message.find("bucket does not exist") != std::string::npos);
}

TEST_CASE("gcs: a key file others may read is refused when opening", "[gcs][gcs-json]") {
  const GcsDouble* d = double_server();
  if (d == nullptr) return;
  auto copy = d->dir() / "loose.json";
  std::filesystem::copy_file(d->key_file(), copy,
                             std::filesystem::copy_options::overwrite_existing);
  ::chmod(copy.c_str(), 0644);
  auto options = json_options(*d);
  options.gcs_credentials_file = copy.string();
  auto b = storage::open_backend(fresh_location("gs://", GcsDouble::bucket), options);
  REQUIRE_FALSE(b.ok());
  CHECK(b.error().kind == util::ErrorKind::usage);
  CHECK(b.error().message.find("chmod 600") != std::string::npos);
}

// --- HMAC keys on the XML API, against moto ------------------------------

namespace {

constexpr const char* hmac_bucket = "bkp-gcs-hmac";

const ScriptServer* moto_for_gcs() {
  static std::string why;
  static std::optional<ScriptServer> server =
      ScriptServer::start("moto_s3.py", {hmac_bucket}, {"moto", "boto3", "werkzeug"}, why);
  if (!server) std::cout << "BKP-SKIP: GCS HMAC tests need moto: " << why << "\n";
  return server ? &*server : nullptr;
}

storage::BackendOptions hmac_options(const ScriptServer& server) {
  storage::BackendOptions o;
  o.gcs_endpoint = server.info()["endpoint"];
  o.gcs_hmac_access_key_id = server.info()["access_key"];
  o.gcs_hmac_secret = server.info()["secret_key"];
  o.s3_multipart_threshold = 8 << 20;  // the large object goes multipart
  return o;
}

}  // namespace

TEST_CASE("gcs (HMAC keys, XML API) passes the conformance suite against moto",
          "[gcs][gcs-hmac][moto]") {
  const ScriptServer* server = moto_for_gcs();
  if (server == nullptr) return;
  auto options = hmac_options(*server);
  const std::string location = fresh_location("gs://", hmac_bucket);
  run_backend_conformance([&] { return open_or_fail(location, options); });
}

TEST_CASE("gcs (HMAC keys): a wrong secret fails at once with an auth error",
          "[gcs][gcs-hmac][moto]") {
  const ScriptServer* server = moto_for_gcs();
  if (server == nullptr) return;
  auto options = hmac_options(*server);
  options.gcs_hmac_secret = "not-the-secret";
  auto b = open_or_fail(fresh_location("gs://", hmac_bucket), options);
  CHECK(b->kind() == "gcs");
  auto start = std::chrono::steady_clock::now();
  auto st = b->put("config", util::as_bytes("x"), storage::WriteMode::create_only);
  REQUIRE_FALSE(st.ok());
  INFO(st.error().message);
  CHECK(st.error().kind == util::ErrorKind::auth);
  CHECK(st.error().message.find("SignatureDoesNotMatch") != std::string::npos);
  CHECK(st.error().message.find("not-the-secret") == std::string::npos);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
}

}  // namespace bkp::test
