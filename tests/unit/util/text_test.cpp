#include <catch2/catch.hpp>

#include <cstdint>

#include "util/text.hpp"

using namespace bkp::util;

TEST_CASE("parse_number takes the whole text or nothing", "[text]") {
  CHECK(parse_number<std::uint64_t>("0") == std::uint64_t{0});
  CHECK(parse_number<std::uint64_t>("18446744073709551615") == UINT64_MAX);
  CHECK_FALSE(parse_number<std::uint64_t>("18446744073709551616"));  // out of range
  CHECK_FALSE(parse_number<std::uint64_t>(""));
  CHECK_FALSE(parse_number<std::uint64_t>("12 "));
  CHECK_FALSE(parse_number<std::uint64_t>(" 12"));
  CHECK_FALSE(parse_number<std::uint64_t>("+12"));
  CHECK_FALSE(parse_number<std::uint64_t>("-1"));
  CHECK_FALSE(parse_number<unsigned>("1/2"));
  CHECK(parse_number<int>("-7") == -7);
  CHECK(parse_number<double>("12.5") == 12.5);
  CHECK_FALSE(parse_number<double>("12.5%"));
}

TEST_CASE("parse_number reads integers in another base", "[text]") {
  CHECK(parse_number<std::uint32_t>("FF", 16) == 255u);
  CHECK(parse_number<std::uint32_t>("ffffffff", 16) == UINT32_MAX);
  CHECK_FALSE(parse_number<std::uint32_t>("100000000", 16));  // out of range
  CHECK_FALSE(parse_number<std::uint32_t>("0x10", 16));
  CHECK_FALSE(parse_number<std::uint32_t>("1G", 16));
  CHECK_FALSE(parse_number<std::uint32_t>("", 16));
  CHECK(parse_number<std::uint32_t>("17", 8) == 15u);
}

TEST_CASE("percent_decode decodes escapes and keeps what is not one", "[text]") {
  CHECK(percent_decode("a%2Fb%20c") == "a/b c");
  CHECK(percent_decode("%e2%82%ac") == "\xe2\x82\xac");
  CHECK(percent_decode("%zz%4") == "%zz%4");
  CHECK(percent_decode("100%") == "100%");
  CHECK(percent_decode("a+b") == "a+b");
  CHECK(percent_decode("a+b%2Bc", PlusIsSpace::yes) == "a b+c");
  CHECK(percent_decode("%00x") == std::string("\0x", 2));
}
