#include <catch2/catch.hpp>

#include "util/time.hpp"

using namespace bkp::util;

TEST_CASE("RFC 3339 formatting and parsing round trip", "[time]") {
  std::int64_t ns = 1'795'182'358'123'456'000;  // 2026-11-21...
  auto text = format_rfc3339(ns);
  CHECK(text.size() == 27);
  CHECK(text.back() == 'Z');
  CHECK(parse_rfc3339(text) == ns);
  CHECK(parse_rfc3339("1970-01-01T00:00:00Z") == 0);
  CHECK(parse_rfc3339("1970-01-01 00:00:10") == 10'000'000'000);
  CHECK(parse_rfc3339("1970-01-01T01:00:00+01:00") == 0);
  CHECK(parse_rfc3339("1970-01-01T00:00:00.5Z") == 500'000'000);
  CHECK_FALSE(parse_rfc3339("yesterday").has_value());
  CHECK_FALSE(parse_rfc3339("2026-13-01T00:00:00Z").has_value());
  CHECK_FALSE(parse_rfc3339("2026-01-01T00:00:00Zjunk").has_value());
  CHECK(format_rfc3339(-1) == "1969-12-31T23:59:59.999999Z");
  CHECK(now_ns() > ns - 1'000'000'000'000'000);
}
