// The S3 backend against moto's S3 server with SigV4 checking on (started
// by tests/servers/moto_s3.py): the whole conformance suite, multipart
// uploads, and a wrong secret that must fail at once with an auth error.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <iostream>

#include "cloud_fixture.hpp"
#include "conformance.hpp"
#include "script_server.hpp"
#include "storage/backend.hpp"

namespace bkp::test {

namespace {

constexpr const char* bucket = "bkp-test";

// One server per test binary run: starting moto takes a few seconds.
const ScriptServer* moto() {
  static std::string why;
  static std::optional<ScriptServer> server =
      ScriptServer::start("moto_s3.py", {bucket}, {"moto", "boto3", "werkzeug"}, why);
  if (!server) std::cout << "BKP-SKIP: S3 tests need moto: " << why << "\n";
  return server ? &*server : nullptr;
}

storage::BackendOptions moto_options(const ScriptServer& server) {
  storage::BackendOptions o;
  o.s3_endpoint = server.info()["endpoint"];
  o.s3_access_key_id = server.info()["access_key"];
  o.s3_secret_access_key = server.info()["secret_key"];
  o.s3_region = "us-east-1";
  // Small enough that the conformance suite's large object goes multipart.
  o.s3_multipart_threshold = 8 << 20;
  return o;
}

std::string fresh_prefix() { return fresh_location("s3://", bucket); }

}  // namespace

TEST_CASE("s3 backend passes the conformance suite against moto", "[s3][moto]") {
  const ScriptServer* server = moto();
  if (server == nullptr) return;
  auto options = moto_options(*server);
  const std::string location = fresh_prefix();
  // The full-size defaults (a 64 MiB object, 2500 objects) take about 19 s
  // against moto here; the threshold above makes the large object go up in
  // four 16 MiB parts.
  run_backend_conformance([&] { return open_or_fail(location, options); });
}

TEST_CASE("s3 backend: multipart objects are create-only too", "[s3][moto]") {
  const ScriptServer* server = moto();
  if (server == nullptr) return;
  auto options = moto_options(*server);
  options.s3_multipart_threshold = 5 << 20;
  auto b = open_or_fail(fresh_prefix(), options);
  // 16 MiB parts: 33 MiB + 123 bytes is three parts, the last one short.
  check_large_object(*b, (33 << 20) + 123, 16 << 20);
}

TEST_CASE("s3 backend: names XML cannot carry still list (encoding-type=url)", "[s3][moto]") {
  const ScriptServer* server = moto();
  if (server == nullptr) return;
  auto b = open_or_fail(fresh_prefix(), moto_options(*server));
  const std::vector<std::string> names = {"ctl/a\x01b", "ctl/tab\there", "ctl/plus+and space",
                                          "ctl/pct%2B%20", "ctl/amp&lt;"};
  for (const auto& n : names) {
    INFO(n);
    REQUIRE(b->put(n, util::as_bytes(n), storage::WriteMode::create_only).ok());
  }
  std::vector<std::string> listed;
  REQUIRE(b->list("ctl/", [&](const storage::ObjectInfo& info) -> util::Status {
             listed.push_back(info.name);
             return {};
           }).ok());
  std::sort(listed.begin(), listed.end());
  auto want = names;
  std::sort(want.begin(), want.end());
  CHECK(listed == want);
  for (const auto& n : names) {
    auto got = b->get(n);
    REQUIRE(got.ok());
    CHECK(util::as_chars(*got) == n);
  }
}

TEST_CASE("s3 backend: a wrong secret fails at once with an auth error", "[s3][moto]") {
  const ScriptServer* server = moto();
  if (server == nullptr) return;
  auto options = moto_options(*server);
  options.s3_secret_access_key = "not-the-secret";
  auto b = open_or_fail(fresh_prefix(), options);
  auto start = std::chrono::steady_clock::now();
  auto st = b->put("config", util::as_bytes("x"), storage::WriteMode::create_only);
  auto elapsed = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(st.ok());
  INFO(st.error().message);
  CHECK(st.error().kind == util::ErrorKind::auth);
  CHECK(st.error().message.find("'config'") != std::string::npos);
  CHECK(st.error().message.find("SignatureDoesNotMatch") != std::string::npos);
  CHECK(st.error().message.find("not-the-secret") == std::string::npos);
  CHECK(elapsed < std::chrono::seconds(2));  // no retry loop
  auto listed = b->list("", [](const storage::ObjectInfo&) -> util::Status { return {}; });
  REQUIRE_FALSE(listed.ok());
  CHECK(listed.error().kind == util::ErrorKind::auth);
  auto got = b->get("config");
  REQUIRE_FALSE(got.ok());
  CHECK(got.error().kind == util::ErrorKind::auth);
  // HEAD answers have no body; stat fetches the reason with a GET.
  auto head = b->stat("config");
  REQUIRE_FALSE(head.ok());
  INFO(head.error().message);
  CHECK(head.error().kind == util::ErrorKind::auth);
  CHECK(head.error().message.find("'config': HTTP 403 SignatureDoesNotMatch") != std::string::npos);
  // An unknown access key is refused the same way.
  options = moto_options(*server);
  options.s3_access_key_id = "AKIAUNKNOWNKEY000000";
  auto other = open_or_fail(fresh_prefix(), options);
  auto stat = other->stat("config");
  REQUIRE_FALSE(stat.ok());
  CHECK(stat.error().kind == util::ErrorKind::auth);
}

TEST_CASE("s3 backend: a missing bucket is an error, not an empty listing", "[s3][moto]") {
  const ScriptServer* server = moto();
  if (server == nullptr) return;
  auto b = open_or_fail("s3://no-such-bucket/x", moto_options(*server));
  auto listed = b->list("", [](const storage::ObjectInfo&) -> util::Status { return {}; });
  REQUIRE_FALSE(listed.ok());
  CHECK(listed.error().message.find("NoSuchBucket") != std::string::npos);
  auto put = b->put("config", util::as_bytes("x"), storage::WriteMode::overwrite);
  REQUIRE_FALSE(put.ok());
  CHECK(put.error().message.find("NoSuchBucket") != std::string::npos);
}

}  // namespace bkp::test
