#include <catch2/catch.hpp>

#include "util/bytes.hpp"
#include "util/secret.hpp"

using namespace bkp::util;

TEST_CASE("hex round trip and rejection of bad input", "[bytes]") {
  Bytes b{0x00, 0x01, 0xab, 0xff};
  CHECK(to_hex(b) == "0001abff");
  Bytes back;
  REQUIRE(from_hex("0001ABff", back));
  CHECK(back == b);
  CHECK_FALSE(from_hex("abc", back));
  CHECK_FALSE(from_hex("zz", back));
}

TEST_CASE("little-endian integers", "[bytes]") {
  Bytes b;
  put_u32le(b, 0x01020304u);
  put_u64le(b, 0x1122334455667788ull);
  REQUIRE(b.size() == 12);
  CHECK(b[0] == 0x04);
  CHECK(get_u32le(b.data()) == 0x01020304u);
  CHECK(get_u64le(b.data() + 4) == 0x1122334455667788ull);
}

TEST_CASE("secret bytes copy, move and view", "[secret]") {
  SecretBytes s(as_bytes("hunter2"));
  CHECK(s.chars() == "hunter2");
  SecretBytes copy = s;
  CHECK(copy.chars() == "hunter2");
  SecretBytes moved = std::move(copy);
  CHECK(moved.size() == 7);
  CHECK(copy.empty());  // NOLINT: moved-from state is specified as empty
  SecretBytes z(32);
  CHECK(z.size() == 32);
  CHECK(z.data()[0] == 0);
}
