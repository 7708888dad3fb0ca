// The Azure backend against a real Azurite (started by
// tests/servers/azurite.py, which checks Shared Key and SAS signatures): the
// whole conformance suite with Shared Key and with a SAS token, blocks,
// list paging, special names, and refused credentials that must fail at
// once with an auth error. Azurite missing is a failure, not a skip.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>

#include "cloud_fixture.hpp"
#include "conformance.hpp"
#include "script_server.hpp"
#include "storage/azure.hpp"
#include "storage/azure_sharedkey.hpp"
#include "storage/backend.hpp"

namespace bkp::test {

namespace {

constexpr const char* container = "bkp-test";

// One server per test binary run.
const ScriptServer& azurite() {
  static std::string why;
  static std::optional<ScriptServer> server =
      ScriptServer::start("azurite.py", {container}, {}, why);
  if (!server) FAIL("Azure tests need python3: " << why);
  return *server;
}

enum class Auth { shared_key, sas, sas_read_only };

storage::BackendOptions azurite_options(Auth auth) {
  const auto& info = azurite().info();
  storage::BackendOptions o;
  o.azure_account = info["account"];
  o.azure_endpoint = info["endpoint"];
  if (auth == Auth::shared_key) o.azure_key = info["key"];
  if (auth == Auth::sas) o.azure_sas_token = info["sas"];
  if (auth == Auth::sas_read_only) o.azure_sas_token = info["sas_read_only"];
  // Small enough that the conformance suite's large object goes up in blocks.
  o.azure_block_threshold = 8 << 20;
  return o;
}

std::string fresh_prefix() { return fresh_location("azure://", container); }

}  // namespace

TEST_CASE("azure backend passes the conformance suite against Azurite (Shared Key)",
          "[azure][azurite]") {
  auto options = azurite_options(Auth::shared_key);
  const std::string location = fresh_prefix();
  run_backend_conformance([&] { return open_or_fail(location, options); });
}

TEST_CASE("azure backend passes the conformance suite against Azurite (SAS token)",
          "[azure][azurite]") {
  auto options = azurite_options(Auth::sas);
  const std::string location = fresh_prefix();
  run_backend_conformance([&] { return open_or_fail(location, options); });
}

TEST_CASE("azure backend: block uploads are atomic and create-only too", "[azure][azurite]") {
  auto options = azurite_options(Auth::shared_key);
  options.azure_block_threshold = 1 << 20;
  auto b = open_or_fail(fresh_prefix(), options);
  // 16 MiB blocks: 33 MiB + 123 bytes is three blocks, the last one short.
  check_large_object(*b, (33 << 20) + 123, 16 << 20);
}

TEST_CASE("azure backend: create-only on Put Blob maps Azurite's 409 to exists",
          "[azure][azurite]") {
  auto b = open_or_fail(fresh_prefix(), azurite_options(Auth::sas));
  REQUIRE(b->put("keys/k1", util::as_bytes("one"), storage::WriteMode::create_only).ok());
  auto st = b->put("keys/k1", util::as_bytes("two"), storage::WriteMode::create_only);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().kind == util::ErrorKind::exists);
  CHECK(st.error().message == "storing 'keys/k1': object exists");
  CHECK(util::as_chars(*b->get("keys/k1")) == "one");
}

TEST_CASE("azure backend: list pages with a small page size", "[azure][azurite]") {
  auto options = azurite_options(Auth::shared_key);
  options.azure_list_page_size = 7;
  auto b = open_or_fail(fresh_prefix(), options);
  std::vector<std::string> want;
  for (int i = 0; i < 45; ++i) {
    want.push_back("index/" + std::to_string(1000 + i));
    REQUIRE(b->put(want.back(), util::as_bytes(want.back()), storage::WriteMode::create_only).ok());
  }
  REQUIRE(b->put("other/x", util::as_bytes("x"), storage::WriteMode::create_only).ok());
  std::vector<std::string> listed;
  REQUIRE(b->list("index/", [&](const storage::ObjectInfo& info) -> util::Status {
             listed.push_back(info.name);
             CHECK(info.size == info.name.size());
             return {};
           }).ok());
  std::sort(listed.begin(), listed.end());
  CHECK(listed == want);
}

TEST_CASE("azure backend: names with special characters", "[azure][azurite]") {
  for (Auth auth : {Auth::shared_key, Auth::sas}) {
    auto b = open_or_fail(fresh_prefix(), azurite_options(auth));
    const std::vector<std::string> names = {"sp/plus+and space", "sp/pct%2B%20",
                                            "sp/amp&lt;=?#",     "sp/unicode-\xc3\xa9\xe2\x82\xac",
                                            "sp/a;b,c'd(e)!*",   "sp/tilde~dollar$at@"};
    for (const auto& n : names) {
      INFO(n);
      REQUIRE(b->put(n, util::as_bytes(n), storage::WriteMode::create_only).ok());
      auto got = b->get(n);
      REQUIRE(got.ok());
      CHECK(util::as_chars(*got) == n);
      auto info = b->stat(n);
      REQUIRE(info.ok());
      CHECK(info->size == n.size());
    }
    std::vector<std::string> listed;
    REQUIRE(b->list("sp/", [&](const storage::ObjectInfo& info) -> util::Status {
               listed.push_back(info.name);
               return {};
             }).ok());
    std::sort(listed.begin(), listed.end());
    auto want = names;
    std::sort(want.begin(), want.end());
    CHECK(listed == want);
    for (const auto& n : names) REQUIRE(b->remove(n).ok());
  }
}

TEST_CASE("azure backend: a wrong account key fails at once with an auth error",
          "[azure][azurite]") {
  auto options = azurite_options(Auth::shared_key);
  const std::string wrong = storage::azure::base64(util::as_bytes("not-the-account-key-at-all"));
  options.azure_key = wrong;
  auto b = open_or_fail(fresh_prefix(), options);
  auto start = std::chrono::steady_clock::now();
  auto st = b->put("config", util::as_bytes("x"), storage::WriteMode::create_only);
  auto elapsed = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(st.ok());
  INFO(st.error().message);
  CHECK(st.error().kind == util::ErrorKind::auth);
  CHECK(st.error().message.find("'config': HTTP 403 Auth") != std::string::npos);
  CHECK(st.error().message.find("account key or SAS token") != std::string::npos);
  CHECK(st.error().message.find(wrong) == std::string::npos);
  CHECK(elapsed < std::chrono::seconds(2));  // no retry loop
  auto listed = b->list("", [](const storage::ObjectInfo&) -> util::Status { return {}; });
  REQUIRE_FALSE(listed.ok());
  CHECK(listed.error().kind == util::ErrorKind::auth);
  auto got = b->get("config");
  REQUIRE_FALSE(got.ok());
  CHECK(got.error().kind == util::ErrorKind::auth);
  // Azure says AuthenticationFailed, Azurite AuthorizationFailure. HEAD
  // answers have no body; the code comes from x-ms-error-code.
  auto head = b->stat("config");
  REQUIRE_FALSE(head.ok());
  INFO(head.error().message);
  CHECK(head.error().kind == util::ErrorKind::auth);
  CHECK(head.error().message.find("'config': HTTP 403 Auth") != std::string::npos);
  // A key that is not base64 at all is a usage error before any request.
  options.azure_key = "not base64 !!";
  auto bad = storage::open_backend(fresh_prefix(), options);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().kind == util::ErrorKind::usage);
  CHECK(bad.error().message.find("not base64") == std::string::npos);
}

TEST_CASE("azure backend: a read-only SAS reads but cannot write", "[azure][azurite]") {
  const std::string location = fresh_prefix();
  auto writer = open_or_fail(location, azurite_options(Auth::shared_key));
  REQUIRE(writer->put("config", util::as_bytes("cfg"), storage::WriteMode::create_only).ok());
  auto options = azurite_options(Auth::sas_read_only);
  auto reader = open_or_fail(location, options);
  auto got = reader->get("config");
  REQUIRE(got.ok());
  CHECK(util::as_chars(*got) == "cfg");
  auto start = std::chrono::steady_clock::now();
  auto st = reader->put("keys/new", util::as_bytes("x"), storage::WriteMode::create_only);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  REQUIRE_FALSE(st.ok());
  INFO(st.error().message);
  CHECK(st.error().kind == util::ErrorKind::auth);
  CHECK(st.error().message.find("HTTP 403") != std::string::npos);
  // The token never shows in a message.
  const std::string sas = options.azure_sas_token;
  CHECK(st.error().message.find(sas.substr(sas.find("sig="))) == std::string::npos);
  CHECK(st.error().message.find("sig=") == std::string::npos);
  auto rm = reader->remove("config");
  REQUIRE_FALSE(rm.ok());
  CHECK(rm.error().kind == util::ErrorKind::auth);
  CHECK(writer->stat("config").ok());
}

TEST_CASE("azure backend: a missing container is an error, not an empty listing",
          "[azure][azurite]") {
  auto b = open_or_fail("azure://no-such-container/x", azurite_options(Auth::shared_key));
  auto listed = b->list("", [](const storage::ObjectInfo&) -> util::Status { return {}; });
  REQUIRE_FALSE(listed.ok());
  CHECK(listed.error().message.find("ContainerNotFound") != std::string::npos);
  auto put = b->put("config", util::as_bytes("x"), storage::WriteMode::overwrite);
  REQUIRE_FALSE(put.ok());
  CHECK(put.error().message.find("ContainerNotFound") != std::string::npos);
}

TEST_CASE("azure locations and options are checked before any request", "[azure]") {
  storage::BackendOptions o;
  o.azure_account = "acct";
  o.azure_sas_token = "sv=x&sig=y";
  for (const char* bad : {"azure://", "azure://AB", "azure://a--b", "azure://ok-name/../x"}) {
    INFO(bad);
    auto b = storage::open_backend(bad, o);
    REQUIRE_FALSE(b.ok());
    CHECK(b.error().kind == util::ErrorKind::usage);
  }
  auto b = storage::open_backend("azure://box/some/prefix/", o);
  REQUIRE(b.ok());
  CHECK((*b)->kind() == "azure");
  CHECK((*b)->describe() == "azure://box/some/prefix (account acct)");
  CHECK((*b)->describe().find("sig") == std::string::npos);
  o.azure_endpoint = "http://blob.example.com/acct";
  auto plain = storage::open_backend("azure://box", o);
  REQUIRE_FALSE(plain.ok());
  CHECK(plain.error().message.find("plain http") != std::string::npos);
  o.insecure_http = true;
  CHECK(storage::open_backend("azure://box", o).ok());
  o.azure_access_tier = "Archive";
  auto tier = storage::open_backend("azure://box", o);
  REQUIRE_FALSE(tier.ok());
  CHECK(tier.error().kind == util::ErrorKind::usage);
}

TEST_CASE("azure Shared Key string-to-sign follows the documented layout", "[azure]") {
  storage::azure::RequestToSign r;
  r.method = "PUT";
  r.account = "myaccount";
  r.path = "/mycontainer/a%20b";
  r.query = {{"comp", "block"}, {"blockid", "QUJD+/=="}, {"Comp2", "x"}};
  r.headers = {{"x-ms-version", "2021-12-02"},
               {"x-ms-date", "Fri, 27 Nov 2026 00:00:00 GMT"},
               {"If-None-Match", "*"},
               {"X-MS-Blob-Type", "  Block   Blob "},
               {"Content-Type", "application/xml"}};
  r.content_length = 42;
  CHECK(storage::azure::string_to_sign(r) ==
        "PUT\n\n\n42\n\napplication/xml\n\n\n\n*\n\n\n"
        "x-ms-blob-type:Block Blob\nx-ms-date:Fri, 27 Nov 2026 00:00:00 GMT\n"
        "x-ms-version:2021-12-02\n"
        "/myaccount/mycontainer/a%20b\nblockid:QUJD+/==\ncomp:block\ncomp2:x");
  r.content_length = 0;  // an empty Content-Length line for zero
  CHECK(storage::azure::string_to_sign(r).substr(0, 8) == "PUT\n\n\n\n\n");
}

}  // namespace bkp::test
