// The S3 backend against tests/servers/fault_s3.py, a double that fails on
// cue: 500s then success are retried, 429 waits, 403 fails at once, a
// truncated body or short range is never returned as data, and a refused
// connection gives a transient error after the retries.
#include <catch2/catch.hpp>
#include <chrono>
#include <iostream>

#include "script_server.hpp"
#include "storage/http_client.hpp"
#include "storage/s3.hpp"
#include "storage/sigv4.hpp"
#include "util/subprocess.hpp"

namespace bkp::test {

namespace {

using storage::S3Backend;
using util::ErrorKind;

const ScriptServer* fault_server() {
  static std::string why;
  static std::optional<ScriptServer> server = ScriptServer::start("fault_s3.py", {}, {}, why);
  if (!server) std::cout << "BKP-SKIP: S3 fault tests need python3: " << why << "\n";
  return server ? &*server : nullptr;
}

std::unique_ptr<S3Backend> open_fault(const std::string& endpoint, int attempts = 4) {
  storage::S3Options o;
  o.multipart_threshold = 1 << 20;
  o.part_size = 5 << 20;
  o.endpoint = endpoint;
  o.credentials.access_key_id = "AKIDTEST";
  o.credentials.secret_access_key = util::SecretBytes(util::as_bytes("secret"));
  o.retry.max_attempts = attempts;
  o.retry.base_delay = std::chrono::milliseconds(1);
  o.retry.max_delay = std::chrono::milliseconds(5);
  o.client.connect_timeout = std::chrono::milliseconds(2000);
  auto b = S3Backend::open({"bucket", "p/"}, std::move(o));
  REQUIRE(b.ok());
  return std::move(*b);
}

long request_count(S3Backend& b, const std::string& key, const char* what = "count") {
  auto r = b.send({"GET", "p/" + key, {{what, ""}}, {}, {}});
  REQUIRE(r.ok());
  return std::stol(std::string(util::as_chars(r->body)));
}

}  // namespace

TEST_CASE("s3 faults: 500 twice, then success, is retried", "[s3][faults]") {
  const ScriptServer* server = fault_server();
  if (server == nullptr) return;
  auto b = open_fault(server->info()["endpoint"]);
  REQUIRE(b->put("fail500-2-put", util::as_bytes("hello"), storage::WriteMode::overwrite).ok());
  CHECK(request_count(*b, "fail500-2-put") == 3);
  auto got = b->get("fail500-2-put");
  REQUIRE(got.ok());
  CHECK(util::as_chars(*got) == "hello");
}

TEST_CASE("s3 faults: 429 with Retry-After is retried", "[s3][faults]") {
  const ScriptServer* server = fault_server();
  if (server == nullptr) return;
  auto b = open_fault(server->info()["endpoint"]);
  REQUIRE(b->put("throttle-x", util::as_bytes("x"), storage::WriteMode::overwrite).ok());
  CHECK(request_count(*b, "throttle-x") == 2);
}

TEST_CASE("s3 faults: a server that stays down gives up with a transient error", "[s3][faults]") {
  const ScriptServer* server = fault_server();
  if (server == nullptr) return;
  auto b = open_fault(server->info()["endpoint"], 3);
  auto r = b->get("always500-x");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::transient);
  CHECK(r.error().message ==
        "reading 'always500-x': HTTP 503 ServiceUnavailable: down for a while");
  CHECK(request_count(*b, "always500-x") == 3);
}

TEST_CASE("s3 faults: 403 fails at once, without retries", "[s3][faults]") {
  const ScriptServer* server = fault_server();
  if (server == nullptr) return;
  auto b = open_fault(server->info()["endpoint"]);
  auto st = b->put("forbidden-x", util::as_bytes("x"), storage::WriteMode::overwrite);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().kind == ErrorKind::auth);
  CHECK(st.error().message.find("AccessDenied: Access Denied") != std::string::npos);
  CHECK(request_count(*b, "forbidden-x") == 1);
}

TEST_CASE("s3 faults: a truncated body is an error, never data", "[s3][faults]") {
  const ScriptServer* server = fault_server();
  if (server == nullptr) return;
  auto b = open_fault(server->info()["endpoint"], 2);
  REQUIRE(b->put("truncate-x", util::Bytes(1000, 7), storage::WriteMode::overwrite).ok());
  auto r = b->get("truncate-x");
  REQUIRE_FALSE(r.ok());
  INFO(r.error().message);
  CHECK(r.error().kind == ErrorKind::transient);
  CHECK(r.error().message.find("truncated") != std::string::npos);
  CHECK(request_count(*b, "truncate-x") == 3);  // the put and two tries
}

TEST_CASE("s3 faults: a short ranged answer is corrupt", "[s3][faults]") {
  const ScriptServer* server = fault_server();
  if (server == nullptr) return;
  auto b = open_fault(server->info()["endpoint"]);
  REQUIRE(b->put("short-x", util::Bytes(100, 1), storage::WriteMode::overwrite).ok());
  auto r = b->get_range("short-x", 10, 20);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::corrupt);
  CHECK(r.error().message.find("'short-x'") != std::string::npos);
}

TEST_CASE("s3 faults: connection refused is transient, after the retries", "[s3][faults]") {
  // Port 1 (tcpmux) has no listener on these machines.
  auto b = open_fault("http://127.0.0.1:1", 2);
  auto start = std::chrono::steady_clock::now();
  auto r = b->stat("config");
  REQUIRE_FALSE(r.ok());
  INFO(r.error().message);
  CHECK(r.error().kind == ErrorKind::transient);
  CHECK(r.error().message.find("HEAD 'http://127.0.0.1:1/bucket/p/config'") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
}

TEST_CASE("s3 faults: a create-only put whose reply was lost still succeeds", "[s3][faults]") {
  const ScriptServer* server = fault_server();
  if (server == nullptr) return;
  auto b = open_fault(server->info()["endpoint"]);
  // The first attempt stores and answers 500; the retry meets 412 from our
  // own object, which is no clash.
  REQUIRE(b->put("lostreply-x", util::as_bytes("mine"), storage::WriteMode::create_only).ok());
  CHECK(request_count(*b, "lostreply-x") == 3);  // two PUTs and the GET that compared
  // Someone else's object under the name is still a clash, at once.
  auto other = b->put("lostreply-x", util::as_bytes("theirs"), storage::WriteMode::create_only);
  REQUIRE_FALSE(other.ok());
  CHECK(other.error().kind == ErrorKind::exists);
  auto got = b->get("lostreply-x");
  REQUIRE(got.ok());
  CHECK(util::as_chars(*got) == "mine");
}

TEST_CASE("s3 faults: a failed multipart upload is aborted", "[s3][faults]") {
  const ScriptServer* server = fault_server();
  if (server == nullptr) return;
  auto b = open_fault(server->info()["endpoint"]);
  const util::Bytes big((6 << 20) + 1, 9);  // two parts of at least 5 MiB
  auto st = b->put("badpart-x", big, storage::WriteMode::overwrite);
  REQUIRE_FALSE(st.ok());
  INFO(st.error().message);
  CHECK(st.error().message.find("storing 'badpart-x': part 2") == 0);
  CHECK(st.error().message.find("InvalidArgument") != std::string::npos);
  CHECK(request_count(*b, "badpart-x", "aborts") == 1);

  st = b->put("badcomplete-x", big, storage::WriteMode::overwrite);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message.find("completing upload") != std::string::npos);
  CHECK(st.error().message.find("completion failed late") != std::string::npos);
  CHECK(request_count(*b, "badcomplete-x", "aborts") == 1);

  // A good one is completed, not aborted.
  REQUIRE(b->put("good-x", big, storage::WriteMode::overwrite).ok());
  CHECK(request_count(*b, "good-x", "aborts") == 0);
  CHECK(request_count(*b, "good-x") == 4);  // initiate, two parts, complete
}

TEST_CASE("sigv4: the same signatures as curl --aws-sigv4, a second signer", "[sigv4][curl]") {
  const ScriptServer* server = fault_server();
  if (server == nullptr) return;
  if (auto v = util::run_capture({"curl", "--version"}); !v.ok() || v->status != 0) {
    std::cout << "BKP-SKIP: curl not found, no cross-check of the signer\n";
    return;
  }
  const std::string endpoint = server->info()["endpoint"];
  const std::string host = endpoint.substr(std::string("http://").size());
  const std::string empty_sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  struct Case {
    std::string path;  // as sent, encoded once
    storage::sigv4::QueryParams query;
  };
  const std::vector<Case> cases = {
      {"/bucket/config", {}},
      {"/bucket/p/sp%20ace/a%2Bb%3Dc%2520d%26e%3Ff", {}},
      {"/bucket/%C3%BCnic%C3%B8de/%23hash~tilde%3Bsemi%3Acolon%40at", {}},
      {"/bucket", {{"list-type", "2"}, {"prefix", "p/data/a b+c"}}},
      {"/bucket", {{"prefix", "x"}, {"continuation-token", "1/a+b=="}, {"list-type", "2"}}},
  };
  for (const auto& c : cases) {
    const std::string query = storage::sigv4::canonical_query(c.query);
    const std::string url = endpoint + c.path + (query.empty() ? "" : "?" + query);
    INFO(url);
    auto run = util::run_capture(
        {"curl", "-s", "-v", "-o", "/dev/null", "--aws-sigv4", "aws:amz:us-east-1:s3", "--user",
         "AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "-H",
         "x-amz-date: 20130524T000000Z", "-H", "x-amz-content-sha256: " + empty_sha, url});
    REQUIRE(run.ok());
    auto at = run->err.find("Signature=");
    REQUIRE(at != std::string::npos);
    const std::string theirs = run->err.substr(at + 10, 64);

    storage::sigv4::RequestToSign r;
    r.method = "GET";
    r.canonical_uri = c.path;
    r.query = c.query;
    r.headers = {
        {"host", host}, {"x-amz-date", "20130524T000000Z"}, {"x-amz-content-sha256", empty_sha}};
    r.payload_sha256 = empty_sha;
    r.amz_date = "20130524T000000Z";
    r.region = "us-east-1";
    storage::sigv4::Credentials creds;
    creds.access_key_id = "AKIAIOSFODNN7EXAMPLE";
    creds.secret_access_key =
        util::SecretBytes(util::as_bytes("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"));
    CHECK(storage::sigv4::sign(r, creds).signature == theirs);
  }
}

}  // namespace bkp::test
