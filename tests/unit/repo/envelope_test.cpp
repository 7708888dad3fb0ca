#include <catch2/catch.hpp>

#include "helpers.hpp"
#include "repo/envelope.hpp"

using namespace bkp;
using repo::ObjectType;
using util::ErrorKind;

namespace {

const repo::KeyId kKeyId{1, 2, 3, 4, 5, 6, 7, 8};
const util::Bytes kPlain = util::to_bytes("the quick brown fox");
const util::Bytes kBinding = util::to_bytes("snapshots/abc");

util::Bytes sealed() {
  return repo::seal_object(ObjectType::snapshot, kKeyId, test::test_key(1), kPlain, kBinding);
}

}  // namespace

TEST_CASE("envelope: layout and round trip") {
  auto s = sealed();
  REQUIRE(s.size() == repo::envelope_overhead + kPlain.size());
  CHECK(s[0] == 'B');
  CHECK(s[1] == 'K');
  CHECK(s[2] == 'P');
  CHECK(s[3] == 1);
  CHECK(s[4] == static_cast<std::uint8_t>(ObjectType::snapshot));
  CHECK(util::Bytes(s.begin() + 5, s.begin() + 13) == util::Bytes(kKeyId.begin(), kKeyId.end()));

  auto h = repo::peek_envelope(s);
  REQUIRE(h.ok());
  CHECK(h->type == ObjectType::snapshot);
  CHECK(h->key_id == kKeyId);

  auto opened = repo::open_object(ObjectType::snapshot, test::test_key(1), s, kBinding);
  REQUIRE(opened.ok());
  CHECK(*opened == kPlain);
}

TEST_CASE("envelope: fresh nonce per seal") {
  auto a = sealed(), b = sealed();
  CHECK(a != b);
  CHECK(util::Bytes(a.begin() + 13, a.begin() + 25) != util::Bytes(b.begin() + 13, b.begin() + 25));
}

TEST_CASE("envelope: empty plaintext and append form") {
  util::Bytes out = util::to_bytes("prefix");
  repo::seal_object_append(ObjectType::data_blob, kKeyId, test::test_key(2), {}, kBinding, out);
  REQUIRE(out.size() == 6 + repo::envelope_overhead);
  auto opened = repo::open_object(ObjectType::data_blob, test::test_key(2),
                                  util::ByteView(out).subspan(6), kBinding);
  REQUIRE(opened.ok());
  CHECK(opened->empty());
}

TEST_CASE("envelope: every tampering is detected") {
  auto key = test::test_key(1);

  SECTION("expected another type") {
    auto r = repo::open_object(ObjectType::index, key, sealed(), kBinding);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::verification);
  }
  SECTION("type byte rewritten to match") {
    auto s = sealed();
    s[4] = static_cast<std::uint8_t>(ObjectType::index);
    auto r = repo::open_object(ObjectType::index, key, s, kBinding);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::verification);
  }
  SECTION("key id rewritten") {
    auto s = sealed();
    s[7] ^= 0xff;
    auto r = repo::open_object(ObjectType::snapshot, key, s, kBinding);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::verification);
  }
  SECTION("another binding (object moved to another name)") {
    auto r =
        repo::open_object(ObjectType::snapshot, key, sealed(), util::to_bytes("snapshots/abd"));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::verification);
  }
  SECTION("another key") {
    auto r = repo::open_object(ObjectType::snapshot, test::test_key(9), sealed(), kBinding);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::verification);
  }
  SECTION("any flipped byte after the prefix") {
    auto base = sealed();
    for (std::size_t i = repo::envelope_prefix_size; i < base.size(); ++i) {
      auto s = base;
      s[i] ^= 0x80;
      auto r = repo::open_object(ObjectType::snapshot, key, s, kBinding);
      INFO("byte " << i);
      REQUIRE_FALSE(r.ok());
      CHECK(r.error().kind == ErrorKind::verification);
    }
  }
  SECTION("truncated by one byte") {
    auto s = sealed();
    s.pop_back();
    auto r = repo::open_object(ObjectType::snapshot, key, s, kBinding);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::verification);
  }
  SECTION("truncated below the envelope overhead") {
    auto s = sealed();
    s.resize(repo::envelope_overhead - 1);
    auto r = repo::open_object(ObjectType::snapshot, key, s, kBinding);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::corrupt);
  }
  SECTION("extended by one byte") {
    auto s = sealed();
    s.push_back(0);
    auto r = repo::open_object(ObjectType::snapshot, key, s, kBinding);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::verification);
  }
  SECTION("wrong magic") {
    auto s = sealed();
    s[1] = 'X';
    auto r = repo::peek_envelope(s);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::corrupt);
  }
  SECTION("future format version asks for an upgrade") {
    auto s = sealed();
    s[3] = 2;
    auto r = repo::open_object(ObjectType::snapshot, key, s, kBinding);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::usage);
    CHECK_THAT(r.error().message, Catch::Contains("upgrade"));
  }
}
