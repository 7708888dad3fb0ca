#include <catch2/catch.hpp>

#include "storage/cloud.hpp"

using namespace bkp::storage;
using bkp::util::ErrorKind;

TEST_CASE("cloud: listed names stay below the prefix and are names bkp writes", "[cloud]") {
  CHECK(listed_name("repo/data/ab/abcd", "repo/") == "data/ab/abcd");
  CHECK(listed_name("config", "") == "config");
  CHECK_FALSE(listed_name("other/config", "repo/"));
  CHECK_FALSE(listed_name("repo", "repo/"));
  CHECK_FALSE(listed_name("repo/", "repo/"));                         // empty name
  CHECK_FALSE(listed_name("repo/a//b", "repo/"));                     // empty segment
  CHECK_FALSE(listed_name("repo/../x", "repo/"));                     // dot segments
  CHECK_FALSE(listed_name("repo/data/x.tmp-abcdef012345", "repo/"));  // a temporary object
}

TEST_CASE("cloud: endpoints lose trailing slashes and refuse a query", "[cloud]") {
  http::ClientOptions options;
  CHECK(checked_endpoint("https://s3.example.com//", "S3", options).value() ==
        "https://s3.example.com");
  CHECK(checked_endpoint("http://127.0.0.1:9000/base/", "S3", options).value() ==
        "http://127.0.0.1:9000/base");
  auto query = checked_endpoint("https://s3.example.com/?x=1", "S3", options);
  REQUIRE_FALSE(query.ok());
  CHECK(query.error().kind == ErrorKind::usage);
  CHECK(query.error().message.find("S3 endpoint") != std::string::npos);
  auto plain = checked_endpoint("http://s3.example.com", "Azure", options);
  REQUIRE_FALSE(plain.ok());
  CHECK(plain.error().kind == ErrorKind::usage);
  CHECK_FALSE(checked_endpoint("ftp://s3.example.com", "GCS", options).ok());
}

TEST_CASE("cloud: a HEAD answer's size and an XML answer's root", "[cloud]") {
  http::Response head;
  head.status = 200;
  head.headers.emplace_back("content-length", "1234");
  CHECK(head_object_info(head, "config").value().size == 1234u);
  head.headers.back().second = "12x";
  CHECK(head_object_info(head, "config").error().message ==
        "inspecting 'config': no valid Content-Length");
  head.headers.clear();
  CHECK_FALSE(head_object_info(head, "config").ok());

  http::Response list;
  const std::string xml = "<ListBucketResult><Name>b</Name></ListBucketResult>";
  list.body.assign(xml.begin(), xml.end());
  pugi::xml_document doc;
  auto root = xml_answer(doc, list, "ListBucketResult", "listing 'data/'");
  REQUIRE(root.ok());
  CHECK(std::string(root->child_value("Name")) == "b");
  CHECK(xml_answer(doc, list, "EnumerationResults", "listing 'data/'").error().message ==
        "listing 'data/': no EnumerationResults in the server's answer");
  const std::string html = "<html><body>proxy error";
  list.body.assign(html.begin(), html.end());
  CHECK_FALSE(xml_answer(doc, list, "ListBucketResult", "listing").ok());
  list.body.clear();
  CHECK(xml_answer(doc, list, "ListBucketResult", "listing").error().message ==
        "listing: the server's answer is not XML");
}
