// The SigV4 signer against AWS's published worked examples for S3
// (AmazonS3/latest/API/sig-v4-header-based-auth.html: example bucket,
// access key AKIAIOSFODNN7EXAMPLE, 2013-05-24), and its encoding rules.
#include "storage/sigv4.hpp"

#include <catch2/catch.hpp>

using namespace bkp::storage::sigv4;

namespace {

constexpr const char* empty_sha =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

Credentials example_credentials() {
  Credentials c;
  c.access_key_id = "AKIAIOSFODNN7EXAMPLE";
  c.secret_access_key =
      bkp::util::SecretBytes(bkp::util::as_bytes("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"));
  return c;
}

RequestToSign example(std::string_view method, std::string_view uri, QueryParams query,
                      std::string_view payload) {
  RequestToSign r;
  r.method = method;
  r.canonical_uri = uri;
  r.query = std::move(query);
  r.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
               {"x-amz-date", "20130524T000000Z"},
               {"x-amz-content-sha256", std::string(payload)}};
  r.payload_sha256 = payload;
  r.amz_date = "20130524T000000Z";
  r.region = "us-east-1";
  return r;
}

}  // namespace

TEST_CASE("sigv4: AWS example GET object with a range", "[sigv4]") {
  auto r = example("GET", "/test.txt", {}, empty_sha);
  r.headers.emplace_back("Range", "bytes=0-9");
  auto s = sign(r, example_credentials());
  CHECK(s.canonical_request ==
        "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
        "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
        "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(s.string_to_sign ==
        "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
        "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  CHECK(s.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  CHECK(s.authorization ==
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST_CASE("sigv4: AWS example PUT object with a '$' in its name", "[sigv4]") {
  const std::string body = "Welcome to Amazon S3.";
  const std::string sha = payload_hash(bkp::util::as_bytes(body));
  CHECK(sha == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  const std::string uri = "/" + uri_encode("test$file.text", EncodeSlash::no);
  auto r = example("PUT", uri, {}, sha);
  CHECK(std::string(r.canonical_uri) == "/test%24file.text");
  r.headers.emplace_back("Date", "Fri, 24 May 2013 00:00:00 GMT");
  r.headers.emplace_back("x-amz-storage-class", "REDUCED_REDUNDANCY");
  auto s = sign(r, example_credentials());
  CHECK(s.signed_headers == "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class");
  CHECK(s.signature == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST_CASE("sigv4: AWS example GET bucket lifecycle (a parameter without value)", "[sigv4]") {
  auto s = sign(example("GET", "/", {{"lifecycle", ""}}, empty_sha), example_credentials());
  CHECK(s.canonical_request.find("\n/\nlifecycle=\n") != std::string::npos);
  CHECK(s.signature == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST_CASE("sigv4: AWS example list objects (sorted query)", "[sigv4]") {
  auto s = sign(example("GET", "/", {{"prefix", "J"}, {"max-keys", "2"}}, empty_sha),
                example_credentials());
  CHECK(s.canonical_request.find("\n/\nmax-keys=2&prefix=J\n") != std::string::npos);
  CHECK(s.signature == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST_CASE("sigv4: a wrong secret or region gives another signature", "[sigv4]") {
  auto r = example("GET", "/test.txt", {}, empty_sha);
  auto good = sign(r, example_credentials()).signature;
  auto wrong = example_credentials();
  wrong.secret_access_key = bkp::util::SecretBytes(bkp::util::as_bytes("wrong"));
  CHECK(sign(r, wrong).signature != good);
  r.region = "eu-west-1";
  auto s = sign(r, example_credentials());
  CHECK(s.signature != good);
  CHECK(s.authorization.find("/eu-west-1/s3/aws4_request") != std::string::npos);
  CHECK(s.authorization.find("wJalr") == std::string::npos);
}

TEST_CASE("sigv4: uri encoding keeps only unreserved characters", "[sigv4]") {
  CHECK(uri_encode("AZaz09-_.~", EncodeSlash::yes) == "AZaz09-_.~");
  CHECK(uri_encode("a/b c", EncodeSlash::no) == "a/b%20c");
  CHECK(uri_encode("a/b c", EncodeSlash::yes) == "a%2Fb%20c");
  CHECK(uri_encode("a+b=c%20d&e?f", EncodeSlash::no) == "a%2Bb%3Dc%2520d%26e%3Ff");
  CHECK(uri_encode("#;:@,!'()*$", EncodeSlash::no) == "%23%3B%3A%40%2C%21%27%28%29%2A%24");
  CHECK(uri_encode("ü名", EncodeSlash::no) == "%C3%BC%E5%90%8D");
  CHECK(uri_encode(std::string("\x00\x7f\xff", 3), EncodeSlash::no) == "%00%7F%FF");
  CHECK(uri_encode("", EncodeSlash::no).empty());
}

TEST_CASE("sigv4: canonical query sorts by encoded name, then value", "[sigv4]") {
  CHECK(canonical_query({}).empty());
  CHECK(canonical_query({{"uploads", ""}}) == "uploads=");
  CHECK(canonical_query({{"prefix", "a/b c"}, {"list-type", "2"}}) ==
        "list-type=2&prefix=a%2Fb%20c");
  CHECK(canonical_query({{"b", "2"}, {"a", "z"}, {"a", "y"}}) == "a=y&a=z&b=2");
  // Sorted after encoding: '%' (0x25) sorts before 'A'.
  CHECK(canonical_query({{"A", "1"}, {"!", "2"}}) == "%21=2&A=1");
  CHECK(canonical_query({{"continuation-token", "1/a+b=="}}) ==
        "continuation-token=1%2Fa%2Bb%3D%3D");
}

TEST_CASE("sigv4: header names fold case, values are trimmed, repeats join", "[sigv4]") {
  RequestToSign r = example("GET", "/", {}, empty_sha);
  r.headers.emplace_back("X-Amz-Meta-A", "  one   two  ");
  r.headers.emplace_back("x-amz-meta-a", "three");
  auto s = sign(r, example_credentials());
  CHECK(s.canonical_request.find("x-amz-meta-a:one two,three\n") != std::string::npos);
  CHECK(s.signed_headers == "host;x-amz-content-sha256;x-amz-date;x-amz-meta-a");
}

TEST_CASE("sigv4: session tokens are signed like any header", "[sigv4]") {
  RequestToSign r = example("GET", "/", {}, empty_sha);
  r.headers.emplace_back("x-amz-security-token", "TOKEN");
  auto s = sign(r, example_credentials());
  CHECK(s.signed_headers == "host;x-amz-content-sha256;x-amz-date;x-amz-security-token");
}
