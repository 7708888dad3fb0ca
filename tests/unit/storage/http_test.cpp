// The HTTP layer without a server: url rules, error classification, the
// retry policy (with a fake clock), and S3 location and option parsing.
#include <catch2/catch.hpp>
#include <cstdlib>

#include "storage/backend.hpp"
#include "storage/http_error.hpp"
#include "storage/http_retry.hpp"
#include "storage/s3.hpp"

using namespace bkp;
using namespace bkp::storage;
using util::ErrorKind;

TEST_CASE("http: loopback hosts", "[http]") {
  for (auto h :
       {"127.0.0.1", "127.1.2.3", "localhost", "LOCALHOST", "::1", "[::1]", "0:0:0:0:0:0:0:1"}) {
    INFO(h);
    CHECK(http::loopback_host(h));
  }
  for (auto h : {"128.0.0.1", "10.0.0.1", "127.0.0.1.example.com", "localhost.evil", "::2", "",
                 "example.com", "127.0.0"}) {
    INFO(h);
    CHECK_FALSE(http::loopback_host(h));
  }
}

TEST_CASE("http: urls are checked before anything is sent", "[http]") {
  http::Client client;
  CHECK(client.check_url("https://s3.amazonaws.com/b/k").ok());
  CHECK(client.check_url("http://127.0.0.1:9000/b").ok());
  CHECK(client.check_url("http://[::1]:9000/b").ok());
  CHECK(client.check_url("http://localhost/b").ok());
  auto plain = client.check_url("http://s3.example.com/b?X-Amz-Signature=secret");
  REQUIRE_FALSE(plain.ok());
  CHECK(plain.error().kind == ErrorKind::usage);
  CHECK(plain.error().message.find("plain http") != std::string::npos);
  CHECK(plain.error().message.find("secret") == std::string::npos);
  CHECK(client.check_url("ftp://127.0.0.1/x").error().kind == ErrorKind::usage);
  CHECK(client.check_url("not a url").error().kind == ErrorKind::usage);
  auto sent = client.perform({"GET", "http://example.com/x", {}, {}});
  REQUIRE_FALSE(sent.ok());
  CHECK(sent.error().kind == ErrorKind::usage);

  http::ClientOptions insecure;
  insecure.plain_http = http::PlainHttp::allowed;
  CHECK(http::Client(insecure).check_url("http://s3.example.com/b").ok());
}

TEST_CASE("http: urls in messages lose their query", "[http]") {
  CHECK(http::redact_url("https://h/p?X-Amz-Signature=abc&x=1") == "https://h/p?<query>");
  CHECK(http::redact_url("https://h/p#frag") == "https://h/p");
  CHECK(http::redact_url("https://h/p") == "https://h/p");
}

TEST_CASE("http: statuses are classified", "[http]") {
  CHECK(http::kind_for_status(404) == ErrorKind::not_found);
  CHECK(http::kind_for_status(403) == ErrorKind::auth);
  CHECK(http::kind_for_status(401) == ErrorKind::auth);
  for (long s : {500L, 502L, 503L, 504L, 429L, 408L})
    CHECK(http::kind_for_status(s) == ErrorKind::transient);
  for (long s : {400L, 405L, 409L, 412L, 416L, 501L})
    CHECK(http::kind_for_status(s) == ErrorKind::generic);
  CHECK(http::retryable_status(503));
  CHECK_FALSE(http::retryable_status(403));
  CHECK_FALSE(http::retryable_status(200));
  CHECK_FALSE(http::retryable_status(501));
}

TEST_CASE("http: the service's error code and message go into the error", "[http]") {
  http::Response r;
  r.status = 403;
  r.body = util::to_bytes(
      "<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code><Message>The request "
      "signature we calculated does not match</Message><StringToSign>AWS4-HMAC-SHA256 "
      "secretish</StringToSign></Error>");
  auto e = http::response_error(r, "storing 'config'");
  CHECK(e.kind == ErrorKind::auth);
  CHECK(e.message.rfind("storing 'config': HTTP 403 SignatureDoesNotMatch: The request", 0) == 0);
  CHECK(e.message.find("secretish") == std::string::npos);

  r.status = 500;
  r.body = util::to_bytes("<html>not xml");
  e = http::response_error(r, "reading 'x'");
  CHECK(e.kind == ErrorKind::transient);
  CHECK(e.message == "reading 'x': HTTP 500 Internal Server Error");

  auto parsed = http::parse_service_error(util::as_bytes(
      "<Error><Code>A</Code><Message>line\none" + std::string(400, 'x') + "</Message></Error>"));
  CHECK(parsed.code == "A");
  CHECK(parsed.message.find('\n') == std::string::npos);
  CHECK(parsed.message.size() < 310);
  CHECK(http::parse_service_error({}).code.empty());
  CHECK(http::parse_service_error(util::as_bytes("<Other/>")).code.empty());
}

TEST_CASE("http: backoff grows exponentially with jitter, capped", "[http]") {
  http::RetryPolicy p;
  p.base_delay = std::chrono::milliseconds(100);
  p.max_delay = std::chrono::milliseconds(1000);
  using ms = std::chrono::milliseconds;
  CHECK(http::backoff_delay(p, 1, 0) == ms(50));
  CHECK(http::backoff_delay(p, 1, 50) == ms(100));
  CHECK(http::backoff_delay(p, 2, 0) == ms(100));
  CHECK(http::backoff_delay(p, 3, 0) == ms(200));
  CHECK(http::backoff_delay(p, 10, 0) == ms(500));
  CHECK(http::backoff_delay(p, 60, 999999) <= ms(1000));
  for (std::uint64_t r = 0; r < 1000; r += 37) {
    auto d = http::backoff_delay(p, 2, r);
    CHECK(d >= ms(100));
    CHECK(d <= ms(200));
  }
}

namespace {

struct Script {
  std::vector<util::Result<http::Response>> outcomes;
  std::size_t calls = 0;
  std::vector<std::chrono::milliseconds> sleeps;
  util::Result<http::Response> run(const http::RetryPolicy& policy) {
    return http::with_retries(
        policy, [&] { return outcomes.at(std::min(calls++, outcomes.size() - 1)); },
        [&](std::chrono::milliseconds d) { sleeps.push_back(d); });
  }
};

http::Response status(long s) {
  http::Response r;
  r.status = s;
  return r;
}

}  // namespace

TEST_CASE("http: retries transient failures, never auth errors", "[http]") {
  http::RetryPolicy p;
  p.max_attempts = 4;
  {
    Script s{{status(500), status(503), status(200)}};
    auto r = s.run(p);
    REQUIRE(r.ok());
    CHECK(r->status == 200);
    CHECK(s.calls == 3);
    CHECK(s.sleeps.size() == 2);
  }
  {
    Script s{{status(403)}};
    CHECK(s.run(p)->status == 403);
    CHECK(s.calls == 1);
    CHECK(s.sleeps.empty());
  }
  {
    Script s{{status(404)}};
    CHECK(s.run(p)->status == 404);
    CHECK(s.calls == 1);
  }
  {
    Script s{{status(500)}};
    CHECK(s.run(p)->status == 500);
    CHECK(s.calls == 4);
  }
  {
    Script s{{util::fail(ErrorKind::transient, "reset"), status(200)}};
    CHECK(s.run(p)->status == 200);
    CHECK(s.calls == 2);
  }
  {
    Script s{{util::fail(ErrorKind::usage, "bad url"), status(200)}};
    CHECK(s.run(p).error().kind == ErrorKind::usage);
    CHECK(s.calls == 1);
  }
  {
    Script s{{util::fail(ErrorKind::transient, "timeout")}};
    auto r = s.run(p);
    CHECK(r.error().message == "timeout");
    CHECK(s.calls == 4);
  }
  {
    http::Response slow = status(429);
    slow.headers.emplace_back("retry-after", "3");
    Script s{{slow, status(200)}};
    CHECK(s.run(p)->status == 200);
    REQUIRE(s.sleeps.size() == 1);
    CHECK(s.sleeps[0] == std::chrono::seconds(3));
  }
  for (const char* junk : {"3x", "-5", "Wed, 21 Oct 2026 07:28:00 GMT", ""}) {
    // Not a number of seconds as a whole: the backoff alone, no floor.
    INFO(junk);
    http::Response slow = status(503);
    slow.headers.emplace_back("retry-after", junk);
    Script s{{slow, status(200)}};
    CHECK(s.run(p)->status == 200);
    REQUIRE(s.sleeps.size() == 1);
    CHECK(s.sleeps[0] <= p.base_delay);  // the first backoff, at most
  }
}

TEST_CASE("s3: locations", "[s3]") {
  auto loc = parse_s3_location("s3://my-bucket/some/prefix/");
  REQUIRE(loc.ok());
  CHECK(loc->bucket == "my-bucket");
  CHECK(loc->prefix == "some/prefix/");
  loc = parse_s3_location("s3://my.bucket");
  REQUIRE(loc.ok());
  CHECK(loc->prefix.empty());
  CHECK(parse_s3_location("s3://my-bucket/").value().prefix.empty());
  for (auto bad : {"s3://", "s3:///x", "s3://AB/x", "s3://a/x", "s3://bucket/../x",
                   "s3://bucket/a//b", "gs://bucket", "s3://bu cket"}) {
    INFO(bad);
    auto r = parse_s3_location(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::usage);
  }
}

TEST_CASE("s3: opening checks endpoint and credentials", "[s3]") {
  for (auto name : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "S3_ACCESS_KEY_ID",
                    "S3_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL",
                    "AWS_ENDPOINT_URL_S3", "AWS_REGION", "AWS_DEFAULT_REGION", "S3_REGION"}) {
    ::unsetenv(name);
  }
  BackendOptions o;
  auto none = open_backend("s3://bucket/p", o);
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().kind == ErrorKind::usage);
  CHECK(none.error().message.find("AWS_ACCESS_KEY_ID") != std::string::npos);

  // The mission's S3_* names work, and AWS_* wins over them.
  ::setenv("S3_ACCESS_KEY_ID", "mission-key", 1);
  ::setenv("S3_SECRET_ACCESS_KEY", "mission-secret", 1);
  ::setenv("S3_REGION", "eu-west-1", 1);
  auto b = open_backend("s3://bucket/p", o);
  REQUIRE(b.ok());
  CHECK((*b)->kind() == "s3");
  CHECK((*b)->describe() == "s3://bucket/p");
  CHECK((*b)->describe().find("mission") == std::string::npos);

  o.s3_endpoint = "http://storage.example.com:9000";
  auto plain = open_backend("s3://bucket/p", o);
  REQUIRE_FALSE(plain.ok());
  CHECK(plain.error().kind == ErrorKind::usage);
  o.insecure_http = true;
  b = open_backend("s3://bucket/p", o);
  REQUIRE(b.ok());
  CHECK((*b)->describe() == "s3://bucket/p at http://storage.example.com:9000");

  o.s3_addressing = "sideways";
  CHECK(open_backend("s3://bucket/p", o).error().kind == ErrorKind::usage);
  o.s3_addressing = "virtual";
  CHECK(open_backend("s3://bucket/p", o).ok());
  o.s3_endpoint = "https://h/x?y=1";
  CHECK(open_backend("s3://bucket/p", o).error().kind == ErrorKind::usage);
  for (auto name : {"S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "S3_REGION"}) ::unsetenv(name);
}
