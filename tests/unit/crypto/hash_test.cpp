#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "crypto/hash.hpp"
#include "util/bytes.hpp"

using namespace bkp;
using bkp::util::Bytes;
using bkp::util::SecretBytes;

namespace {

std::string hex(const crypto::Digest& d) { return util::to_hex(d); }

SecretBytes key_0_to_31() {
  SecretBytes k(32);
  for (std::size_t i = 0; i < 32; ++i) k.data()[i] = static_cast<std::uint8_t>(i);
  return k;
}

}  // namespace

TEST_CASE("sha256 known answers", "[hash]") {
  CHECK(hex(crypto::sha256(util::as_bytes("abc"))) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(hex(crypto::sha256({})) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("sha256 incremental equals one-shot for any split", "[hash]") {
  auto data = crypto::random_bytes(10000);
  auto whole = crypto::sha256(data);
  for (std::size_t step : {1u, 7u, 64u, 1000u, 9999u}) {
    crypto::Sha256 h;
    for (std::size_t off = 0; off < data.size(); off += step)
      h.update(util::ByteView(data).subspan(off, std::min(step, data.size() - off)));
    CHECK(h.finish() == whole);
  }
  crypto::Sha256 h;
  h.update(util::as_bytes("a"));
  h.update({});
  h.update(util::as_bytes("bc"));
  CHECK(hex(h.finish()) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // finish() re-arms the context for the next stream.
  h.update(util::as_bytes("abc"));
  CHECK(hex(h.finish()) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(hex(h.finish()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("hmac-sha256 RFC 4231 test cases 1 and 2", "[hash]") {
  CHECK(util::to_hex(crypto::hmac_sha256(util::as_bytes("Jefe"),
                                         util::as_bytes("what do ya want for nothing?"))) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  Bytes key1(20, 0x0b);
  CHECK(util::to_hex(crypto::hmac_sha256(key1, util::as_bytes("Hi There"))) ==
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  // An empty key is valid HMAC input (used nowhere in bkp, but must not crash).
  CHECK(crypto::hmac_sha256({}, util::as_bytes("x")).size() == 32);
}

TEST_CASE("keyed blake2b-256 vector computed with python hashlib", "[hash]") {
  // hashlib.blake2b(data, key=bytes(range(32)), digest_size=32).hexdigest()
  auto key = key_0_to_31();
  CHECK(hex(crypto::keyed_hash(key, util::as_bytes("bkp chunk id test vector"))) ==
        "31946d0003a44cd0ef09772009bbe4837c4e547d1cb42f0e09566504e1fbd848");
  CHECK(hex(crypto::keyed_hash(key, {})) ==
        "4e51e7a913fc80137da52880fecca175bf81e117d5c68126dc2774033517ea0d");
}

TEST_CASE("keyed blake2b is deterministic and key sensitive", "[hash]") {
  auto key = crypto::random_secret(32);
  auto data = crypto::random_bytes(4096);
  auto a = crypto::keyed_hash(key, data);
  CHECK(a.size() == 32);
  CHECK(crypto::keyed_hash(key, data) == a);
  SecretBytes key2 = key;
  key2.data()[31] ^= 1;
  CHECK(crypto::keyed_hash(key2, data) != a);
  data[0] ^= 1;
  CHECK(crypto::keyed_hash(key, data) != a);
  CHECK_THROWS(crypto::keyed_hash(SecretBytes(16), data));
}

TEST_CASE("random helpers produce fresh bytes of the asked size", "[random]") {
  CHECK(crypto::random_bytes(0).empty());
  crypto::random_fill(nullptr, 0);
  auto a = crypto::random_bytes(32);
  auto b = crypto::random_bytes(32);
  CHECK(a.size() == 32);
  CHECK(a != b);
  auto s = crypto::random_secret(32);
  auto t = crypto::random_secret(32);
  REQUIRE(s.size() == 32);
  CHECK(util::to_hex(s.view()) != util::to_hex(t.view()));
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.emplace(util::as_chars(crypto::random_bytes(8)));
  CHECK(seen.size() == 1000);
}
