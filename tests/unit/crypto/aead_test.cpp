#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "crypto/aead.hpp"
#include "crypto/aead_testing.hpp"
#include "crypto/hash.hpp"
#include "util/bytes.hpp"

using namespace bkp;
using bkp::util::Bytes;
using bkp::util::ErrorKind;
using bkp::util::SecretBytes;

namespace {

Bytes hex(std::string_view s) {
  Bytes out;
  REQUIRE(util::from_hex(s, out));
  return out;
}

SecretBytes key_from_hex(std::string_view s) { return SecretBytes(hex(s)); }

}  // namespace

TEST_CASE("aead round trip with and without associated data", "[aead]") {
  auto key = crypto::random_secret(crypto::key_size);
  auto pt = util::to_bytes("the quick brown fox jumps over the lazy dog");
  for (std::string_view ad : {"", "pack:0123abcd:key1"}) {
    auto sealed = crypto::seal(key, pt, util::as_bytes(ad));
    REQUIRE(sealed.size() == pt.size() + crypto::seal_overhead);
    auto opened = crypto::open(key, sealed, util::as_bytes(ad));
    REQUIRE(opened.ok());
    CHECK(*opened == pt);
  }
}

TEST_CASE("aead empty plaintext seals to overhead only and opens", "[aead]") {
  auto key = crypto::random_secret(crypto::key_size);
  auto sealed = crypto::seal(key, {}, util::as_bytes("ad"));
  REQUIRE(sealed.size() == crypto::seal_overhead);
  auto opened = crypto::open(key, sealed, util::as_bytes("ad"));
  REQUIRE(opened.ok());
  CHECK(opened->empty());
  // The tag still authenticates the associated data.
  auto bad = crypto::open(key, sealed, util::as_bytes("other"));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().kind == ErrorKind::verification);
}

TEST_CASE("aead large plaintext round trip", "[aead]") {
  auto key = crypto::random_secret(crypto::key_size);
  auto pt = crypto::random_bytes(3 * 1024 * 1024 + 7);
  auto sealed = crypto::seal(key, pt, {});
  auto opened = crypto::open(key, sealed, {});
  REQUIRE(opened.ok());
  CHECK(*opened == pt);
}

TEST_CASE("aead seal_append appends after existing content", "[aead]") {
  auto key = crypto::random_secret(crypto::key_size);
  Bytes out = util::to_bytes("HDR");
  auto pt1 = util::to_bytes("first");
  auto pt2 = util::to_bytes("second object");
  crypto::seal_append(key, pt1, util::as_bytes("a"), out);
  const auto split = out.size();
  crypto::seal_append(key, pt2, util::as_bytes("b"), out);
  REQUIRE(out.size() == 3 + pt1.size() + pt2.size() + 2 * crypto::seal_overhead);
  CHECK(util::as_chars(util::ByteView(out).first(3)) == "HDR");
  auto o1 = crypto::open(key, util::ByteView(out).subspan(3, split - 3), util::as_bytes("a"));
  auto o2 = crypto::open(key, util::ByteView(out).subspan(split), util::as_bytes("b"));
  REQUIRE(o1.ok());
  REQUIRE(o2.ok());
  CHECK(*o1 == pt1);
  CHECK(*o2 == pt2);
}

TEST_CASE("aead seal_append_pieces seals their concatenation", "[aead]") {
  auto key = crypto::random_secret(crypto::key_size);
  // Pieces of odd lengths, across AES block boundaries, and an empty one.
  Bytes whole(70001);
  for (std::size_t i = 0; i < whole.size(); ++i) whole[i] = static_cast<std::uint8_t>(i * 31);
  const util::ByteView all(whole);
  const util::ByteView parts[] = {all.first(1), all.subspan(1, 0), all.subspan(1, 17),
                                  all.subspan(18, 4096), all.subspan(4114)};
  Bytes out = util::to_bytes("HDR");
  crypto::seal_append_pieces(key, parts, util::as_bytes("ad"), out);
  REQUIRE(out.size() == 3 + whole.size() + crypto::seal_overhead);
  auto opened = crypto::open(key, util::ByteView(out).subspan(3), util::as_bytes("ad"));
  REQUIRE(opened.ok());
  CHECK(*opened == whole);
  // Still authenticated as one message: the associated data counts.
  CHECK(crypto::open(key, util::ByteView(out).subspan(3), util::as_bytes("xx")).error().kind ==
        ErrorKind::verification);
  // No pieces at all: an empty plaintext.
  Bytes empty;
  crypto::seal_append_pieces(key, std::span<const util::ByteView>(), {}, empty);
  REQUIRE(empty.size() == crypto::seal_overhead);
  auto e = crypto::open(key, empty, {});
  REQUIRE(e.ok());
  CHECK(e->empty());
}

TEST_CASE("aead detects tampering of every byte", "[aead]") {
  auto key = crypto::random_secret(crypto::key_size);
  auto pt = util::to_bytes("sixteen byte msg and a bit more");
  auto ad = util::as_bytes("snapshot:42");
  const auto sealed = crypto::seal(key, pt, ad);
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    for (std::uint8_t flip : {std::uint8_t{0x01}, std::uint8_t{0x80}}) {
      Bytes t = sealed;
      t[i] ^= flip;
      auto r = crypto::open(key, t, ad);
      INFO("byte " << i << " flip " << int(flip));
      REQUIRE_FALSE(r.ok());
      CHECK(r.error().kind == ErrorKind::verification);
    }
  }
}

TEST_CASE("aead rejects truncated and extended input", "[aead]") {
  auto key = crypto::random_secret(crypto::key_size);
  auto sealed = crypto::seal(key, util::as_bytes("payload"), {});
  for (std::size_t n = 0; n < sealed.size(); ++n) {
    auto r = crypto::open(key, util::ByteView(sealed).first(n), {});
    INFO("length " << n);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::verification);
  }
  Bytes longer = sealed;
  longer.push_back(0);
  auto r = crypto::open(key, longer, {});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::verification);
  auto short_msg = crypto::open(key, Bytes(5), {});
  REQUIRE_FALSE(short_msg.ok());
  CHECK(short_msg.error().message.find("too short") != std::string::npos);
}

TEST_CASE("aead wrong key and wrong associated data fail verification", "[aead]") {
  auto key = crypto::random_secret(crypto::key_size);
  auto other = crypto::random_secret(crypto::key_size);
  auto sealed = crypto::seal(key, util::as_bytes("secret data"), util::as_bytes("pack:1"));
  auto wrong_key = crypto::open(other, sealed, util::as_bytes("pack:1"));
  REQUIRE_FALSE(wrong_key.ok());
  CHECK(wrong_key.error().kind == ErrorKind::verification);
  auto wrong_ad = crypto::open(key, sealed, util::as_bytes("pack:2"));
  REQUIRE_FALSE(wrong_ad.ok());
  CHECK(wrong_ad.error().kind == ErrorKind::verification);
  auto missing_ad = crypto::open(key, sealed, {});
  REQUIRE_FALSE(missing_ad.ok());
  CHECK(missing_ad.error().kind == ErrorKind::verification);
}

TEST_CASE("aead draws a fresh nonce for every seal", "[aead]") {
  auto key = crypto::random_secret(crypto::key_size);
  auto pt = util::as_bytes("same plaintext every time");
  // Strings, not Bytes: GCC 12 -O3 misfires -Wstringop-overread on vector <=>.
  std::set<std::string> nonces;
  std::set<std::string> ciphertexts;
  constexpr int n = 2000;
  for (int i = 0; i < n; ++i) {
    auto sealed = crypto::seal(key, pt, {});
    nonces.emplace(util::as_chars(util::ByteView(sealed).first(crypto::nonce_size)));
    ciphertexts.emplace(util::as_chars(sealed));
  }
  CHECK(nonces.size() == n);
  CHECK(ciphertexts.size() == n);
}

TEST_CASE("aead rejects keys of the wrong size as a bug", "[aead]") {
  SecretBytes short_key(16);
  CHECK_THROWS(crypto::seal(short_key, util::as_bytes("x"), {}));
  CHECK_THROWS(crypto::open(short_key, Bytes(40), {}));
  auto key = crypto::random_secret(crypto::key_size);
  CHECK_THROWS(crypto::testing::seal_with_nonce_for_test(key, Bytes(8), {}, {}));
}

// Known answers from "The Galois/Counter Mode of Operation (GCM)", McGrew and
// Viega, test cases 13, 14 and 16 (256-bit keys, 96-bit IVs).
TEST_CASE("aead AES-256-GCM known-answer vectors", "[aead][kat]") {
  struct Vector {
    const char* key;
    const char* iv;
    const char* pt;
    const char* ad;
    const char* ct;
    const char* tag;
  };
  const Vector vectors[] = {
      {"0000000000000000000000000000000000000000000000000000000000000000",
       "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
      {"0000000000000000000000000000000000000000000000000000000000000000",
       "000000000000000000000000", "00000000000000000000000000000000", "",
       "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
      {"feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
       "cafebabefacedbaddecaf888",
       "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e"
       "2449a6b525b16aedf5aa0de657ba637b39",
       "feedfacedeadbeeffeedfacedeadbeefabaddad2",
       "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b"
       "1056828838c5f61e6393ba7a0abcc9f662",
       "76fc6ece0f4e1768cddf8853bb2d551b"},
  };
  for (const auto& v : vectors) {
    auto key = key_from_hex(v.key);
    Bytes expected = hex(v.iv);
    util::append(expected, hex(v.ct));
    util::append(expected, hex(v.tag));
    auto sealed = crypto::testing::seal_with_nonce_for_test(key, hex(v.iv), hex(v.pt), hex(v.ad));
    CHECK(util::to_hex(sealed) == util::to_hex(expected));
    // The production open() must accept the published ciphertext.
    auto opened = crypto::open(key, expected, hex(v.ad));
    REQUIRE(opened.ok());
    CHECK(util::to_hex(*opened) == v.pt);
  }
}
