#include <catch2/catch.hpp>

#include "helpers.hpp"
#include "repo/keyring.hpp"

using namespace bkp;
using util::ErrorKind;

namespace {

util::Bytes plain(const repo::Keyring& k) {
  auto s = k.encode();
  return util::Bytes(s.view().begin(), s.view().end());
}

repo::Keyring two_key_ring() {
  auto k = repo::Keyring::create(util::as_bytes("config bytes"));
  repo::DataKey second;
  second.id = {9, 9, 9, 9, 9, 9, 9, 9};
  second.key = test::test_key(3);
  second.created_ns = -5;  // before the epoch: stored as two's complement
  k.data_keys.push_back(std::move(second));
  k.generation = 0x0102030405060708ull;
  return k;
}

}  // namespace

TEST_CASE("keyring: create") {
  auto k = repo::Keyring::create(util::as_bytes("config bytes"));
  CHECK(k.generation == 1);
  CHECK(k.config_digest == crypto::sha256(util::as_bytes("config bytes")));
  CHECK(k.chunk_id_key.size() == 32);
  CHECK(k.chunker_seed.size() == 32);
  REQUIRE(k.data_keys.size() == 1);
  CHECK(k.current_key().id == k.current);
  CHECK(k.current_key().key.size() == 32);
  CHECK(k.current_key().created_ns > 0);
  CHECK(k.object_name() == "keyring/0000000000000001");
  CHECK(k.find(repo::KeyId{}) == nullptr);
}

TEST_CASE("keyring: binary layout and round trip") {
  auto k = two_key_ring();
  auto bytes = plain(k);
  REQUIRE(bytes.size() == 120 + 48 * 2);
  CHECK(util::get_u32le(bytes.data()) == 1);
  CHECK(util::get_u64le(bytes.data() + 4) == 0x0102030405060708ull);
  CHECK(std::equal(k.config_digest.begin(), k.config_digest.end(), bytes.begin() + 12));
  CHECK(std::equal(k.current.begin(), k.current.end(), bytes.begin() + 108));
  CHECK(util::get_u32le(bytes.data() + 116) == 2);
  CHECK(bytes[120 + 48] == 9);

  auto d = repo::Keyring::decode(bytes);
  REQUIRE(d.ok());
  CHECK(d->generation == k.generation);
  CHECK(d->config_digest == k.config_digest);
  CHECK(util::to_hex(d->chunk_id_key.view()) == util::to_hex(k.chunk_id_key.view()));
  CHECK(util::to_hex(d->chunker_seed.view()) == util::to_hex(k.chunker_seed.view()));
  CHECK(d->current == k.current);
  REQUIRE(d->data_keys.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(d->data_keys[i].id == k.data_keys[i].id);
    CHECK(d->data_keys[i].created_ns == k.data_keys[i].created_ns);
    CHECK(util::to_hex(d->data_keys[i].key.view()) == util::to_hex(k.data_keys[i].key.view()));
  }
  CHECK(plain(*d) == bytes);
}

TEST_CASE("keyring: damaged plaintext") {
  auto bytes = plain(two_key_ring());

  SECTION("truncated fixed part") {
    auto r = repo::Keyring::decode(util::ByteView(bytes).first(119));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::corrupt);
  }
  SECTION("truncated key list") {
    auto r = repo::Keyring::decode(util::ByteView(bytes).first(bytes.size() - 1));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::corrupt);
  }
  SECTION("trailing bytes") {
    bytes.push_back(0);
    auto r = repo::Keyring::decode(bytes);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::corrupt);
  }
  SECTION("count says more keys than there are") {
    bytes[116] = 3;
    auto r = repo::Keyring::decode(bytes);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::corrupt);
  }
  SECTION("current key missing") {
    bytes[108] ^= 0xff;
    auto r = repo::Keyring::decode(bytes);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::corrupt);
  }
  SECTION("newer version") {
    bytes[0] = 4;
    auto r = repo::Keyring::decode(bytes);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::usage);
  }
}

TEST_CASE("keyring: object names") {
  CHECK(repo::keyring_object_name(255) == "keyring/00000000000000ff");
  CHECK(repo::keyring_generation("keyring/00000000000000ff") == 255u);
  CHECK(repo::keyring_generation("keyring/ffffffffffffffff") == ~std::uint64_t{0});
  CHECK_FALSE(repo::keyring_generation("keyring/ff").has_value());
  CHECK_FALSE(repo::keyring_generation("keyring/00000000000000fg").has_value());
  CHECK_FALSE(repo::keyring_generation("keys/00000000000000ff").has_value());
  CHECK_FALSE(repo::keyring_generation("keyring/00000000000000ff.tmp").has_value());
}

TEST_CASE("keyring: version 3 (key domains) layout and round trip") {
  auto k = two_key_ring();
  auto& d = k.add_domain("acme");
  auto acme_key = d.data_key;
  k.shredded.push_back({"old-tenant", repo::KeyId{7, 7, 7, 7, 7, 7, 7, 7}, 1234});
  auto bytes = plain(k);
  // Version 1's layout (3 data keys), no writer keys, 1 domain, 1 shredded.
  std::size_t keys_end = 120 + 48 * 3;
  REQUIRE(bytes.size() == keys_end + 1 + 4 + (1 + 4 + 72) + 4 + (1 + 10 + 16));
  CHECK(util::get_u32le(bytes.data()) == 3);
  CHECK(bytes[keys_end] == 0);
  CHECK(util::get_u32le(bytes.data() + keys_end + 1) == 1);
  CHECK(bytes[keys_end + 5] == 4);
  CHECK(std::string(bytes.begin() + keys_end + 6, bytes.begin() + keys_end + 10) == "acme");
  CHECK(std::equal(acme_key.begin(), acme_key.end(), bytes.begin() + keys_end + 10 + 64));
  auto s = keys_end + 10 + 72;
  CHECK(util::get_u32le(bytes.data() + s) == 1);
  CHECK(bytes[s + 4] == 10);
  CHECK(util::get_u64le(bytes.data() + bytes.size() - 8) == 1234);

  auto back = repo::Keyring::decode(bytes);
  REQUIRE(back.ok());
  REQUIRE(back->domains.size() == 1);
  CHECK(back->domains[0].name == "acme");
  CHECK(back->domains[0].data_key == acme_key);
  CHECK(util::to_hex(back->domains[0].chunk_id_key.view()) ==
        util::to_hex(k.domains[0].chunk_id_key.view()));
  CHECK(back->domain_of(acme_key) != nullptr);
  CHECK(back->find_domain("acme") != nullptr);
  REQUIRE(back->shredded.size() == 1);
  CHECK(back->shredded[0].name == "old-tenant");
  CHECK(back->shredded_key(repo::KeyId{7, 7, 7, 7, 7, 7, 7, 7}) != nullptr);
  CHECK(back->shredded[0].shredded_ns == 1234);
  CHECK(!back->box);

  // With the writer keys of version 2 as well.
  k.add_writer_keys();
  auto with_box = repo::Keyring::decode(plain(k));
  REQUIRE(with_box.ok());
  CHECK(with_box->box.has_value());
  CHECK(with_box->index_key == k.index_key);
  CHECK(with_box->domains.size() == 1);

  // Damage: truncated, trailing bytes, a bad name, the current key a domain's.
  auto cut = bytes;
  cut.pop_back();
  CHECK(repo::Keyring::decode(cut).error().kind == ErrorKind::corrupt);
  auto longer = bytes;
  longer.push_back(0);
  CHECK(repo::Keyring::decode(longer).error().kind == ErrorKind::corrupt);
  auto bad_name = bytes;
  bad_name[keys_end + 6] = '/';
  CHECK(repo::Keyring::decode(bad_name).error().kind == ErrorKind::corrupt);
  auto current = k;
  current.current = acme_key;
  CHECK(repo::Keyring::decode(plain(current)).error().kind == ErrorKind::corrupt);
  CHECK(repo::valid_domain_name("a.b_c-9"));
  CHECK(!repo::valid_domain_name(""));
  CHECK(!repo::valid_domain_name(std::string(65, 'a')));
}
