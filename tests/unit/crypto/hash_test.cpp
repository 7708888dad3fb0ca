#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <thread>

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

TEST_CASE("blob ids: HMAC-SHA-256 vectors computed with python hmac", "[hash]") {
  // hmac.new(bytes(range(32)), data, hashlib.sha256).hexdigest()
  auto key = key_0_to_31();
  auto h = [&](const SecretBytes& k, std::string_view text) {
    return hex(crypto::blob_hash(crypto::BlobIdAlgorithm::hmac_sha256, k, util::as_bytes(text)));
  };
  const char* vector = "ee30dbb8e829cc9669fd4ff9233d924137aed00ace590c1acfe67d7e5f3b2765";
  CHECK(h(key, "bkp chunk id test vector") == vector);
  // Again: the per-thread context restarts with the key it holds.
  CHECK(h(key, "bkp chunk id test vector") == vector);
  CHECK(h(key, "") == "d38b42096d80f45f826b44a9d5607de72496a415d3f4a1a8c88e3bb9da8dc1cb");
  // Another key replaces the held one, and going back works too.
  SecretBytes key2(32);
  for (int i = 0; i < 32; ++i) key2.data()[i] = static_cast<std::uint8_t>(i + 1);
  CHECK(h(key2, "bkp chunk id test vector") ==
        "e3bee6710be8135bbf92a30a9ccec3a69e822f07dd60f8cdc9383289fbe1bbaf");
  CHECK(h(key, "bkp chunk id test vector") == vector);
  // Another thread has its own context and gets the same answer.
  std::string other;
  std::thread([&] { other = h(key, "bkp chunk id test vector"); }).join();
  CHECK(other == vector);
  CHECK_THROWS(crypto::blob_hash(crypto::BlobIdAlgorithm::hmac_sha256, SecretBytes(16), {}));
}

TEST_CASE("blob ids: the format 1 algorithm is keyed BLAKE2b", "[hash]") {
  auto key = key_0_to_31();
  auto data = util::as_bytes("bkp chunk id test vector");
  CHECK(crypto::blob_hash(crypto::BlobIdAlgorithm::keyed_blake2b, key, data) ==
        crypto::keyed_hash(key, data));
  for (auto a : {crypto::BlobIdAlgorithm::keyed_blake2b, crypto::BlobIdAlgorithm::hmac_sha256})
    CHECK(crypto::parse_blob_id_algorithm(crypto::to_string(a)) == a);
  CHECK_FALSE(crypto::parse_blob_id_algorithm("sha1").has_value());
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
