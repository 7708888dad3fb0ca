#include <catch2/catch.hpp>

#include "crypto/box.hpp"

using namespace bkp;

TEST_CASE("box: seal to a public key, open with the pair", "[box]") {
  auto kp = crypto::generate_box_keypair();
  REQUIRE(kp.public_key.size() == crypto::box_public_key_size);
  REQUIRE(kp.secret_key.size() == crypto::box_secret_key_size);
  util::Bytes msg = util::to_bytes("a session data key");
  auto sealed = crypto::box_seal(kp.public_key, msg);
  CHECK(sealed.size() == msg.size() + crypto::box_seal_overhead);
  auto opened = crypto::box_open(kp, sealed);
  REQUIRE(opened.has_value());
  CHECK(util::Bytes(opened->view().begin(), opened->view().end()) == msg);
  // Two seals of the same message differ (ephemeral sender keys).
  CHECK(crypto::box_seal(kp.public_key, msg) != sealed);

  auto other = crypto::generate_box_keypair();
  CHECK_FALSE(crypto::box_open(other, sealed).has_value());
  auto tampered = sealed;
  tampered[40] ^= 1;
  CHECK_FALSE(crypto::box_open(kp, tampered).has_value());
  CHECK_FALSE(crypto::box_open(kp, util::ByteView(sealed).first(10)).has_value());
  crypto::BoxKeyPair broken;
  CHECK_FALSE(crypto::box_open(broken, sealed).has_value());
}
