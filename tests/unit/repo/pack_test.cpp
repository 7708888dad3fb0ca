#include <catch2/catch.hpp>

#include "helpers.hpp"
#include "repo/index_segment.hpp"
#include "repo/pack.hpp"

using namespace bkp;
using repo::BlobType;
using util::ErrorKind;

namespace {

repo::BlobId id_of(std::uint8_t n) {
  repo::BlobId id{};
  id.fill(n);
  return id;
}

struct BuiltPack {
  repo::Keyring keyring = repo::Keyring::create(util::as_bytes("c"));
  std::vector<util::Bytes> sealed;
  repo::PackWriter::Finished finished;

  BuiltPack() {
    repo::PackWriter w;
    CHECK(w.empty());
    auto& key = keyring.current_key();
    for (std::uint8_t i = 0; i < 3; ++i) {
      auto body = test::noise(100 + i * 10, i);
      auto type = i == 2 ? BlobType::tree : BlobType::data;
      auto env = repo::seal_object(
          type == BlobType::tree ? repo::ObjectType::tree_blob : repo::ObjectType::data_blob,
          key.id, key.key, body, id_of(i));
      w.add(type, id_of(i), env, static_cast<std::uint32_t>(body.size() + 7));
      sealed.push_back(env);
    }
    CHECK(w.count() == 3);
    finished = w.finish(key);
    CHECK(w.empty());
    CHECK(w.size() == 0);
  }
};

}  // namespace

TEST_CASE("pack: names") {
  auto id = id_of(0xab);
  auto name = repo::pack_object_name(id);
  CHECK(name == "data/ab/" + util::to_hex(id));
  CHECK(repo::parse_pack_name(name) == id);
  CHECK_FALSE(repo::parse_pack_name("data/ac/" + util::to_hex(id)).has_value());
  CHECK_FALSE(repo::parse_pack_name("data/ab/" + util::to_hex(id).substr(1)).has_value());
  CHECK_FALSE(repo::parse_pack_name("index/" + util::to_hex(id)).has_value());
  CHECK_FALSE(repo::parse_pack_name("data/ab-" + util::to_hex(id)).has_value());
}

TEST_CASE("pack: layout, id and header round trip") {
  BuiltPack p;
  auto& bytes = p.finished.bytes;
  CHECK(p.finished.id == crypto::sha256(bytes));

  REQUIRE(p.finished.blobs.size() == 3);
  std::uint32_t offset = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    auto& b = p.finished.blobs[i];
    CHECK(b.id == id_of(static_cast<std::uint8_t>(i)));
    CHECK(b.pack == p.finished.id);
    CHECK(b.offset == offset);
    CHECK(b.length == p.sealed[i].size());
    CHECK(b.raw_length == 100 + i * 10 + 7);
    CHECK(util::Bytes(bytes.begin() + b.offset, bytes.begin() + b.offset + b.length) ==
          p.sealed[i]);
    offset += b.length;
  }
  CHECK(p.finished.blobs[2].type == BlobType::tree);

  auto len = repo::pack_header_length(bytes);
  REQUIRE(len.ok());
  // Header: version byte, count, three 45-byte records, sealed.
  CHECK(*len == repo::envelope_overhead + 1 + 4 + 3 * 45);
  CHECK(offset + *len + 4 == bytes.size());
  auto env = util::ByteView(bytes).subspan(bytes.size() - 4 - *len, *len);
  auto header = repo::open_pack_header(env, p.keyring);
  REQUIRE(header.ok());
  REQUIRE(header->size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    auto& e = (*header)[i];
    auto& b = p.finished.blobs[i];
    CHECK(e.id == b.id);
    CHECK(e.type == b.type);
    CHECK(e.offset == b.offset);
    CHECK(e.length == b.length);
    CHECK(e.raw_length == b.raw_length);
  }
}

TEST_CASE("pack: damaged header") {
  BuiltPack p;
  auto& bytes = p.finished.bytes;
  auto len = *repo::pack_header_length(bytes);
  auto env = util::Bytes(bytes.end() - 4 - len, bytes.end() - 4);

  SECTION("flipped byte") {
    env[env.size() / 2] ^= 1;
    auto r = repo::open_pack_header(env, p.keyring);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::verification);
  }
  SECTION("unknown key") {
    auto other = repo::Keyring::create(util::as_bytes("c"));
    auto r = repo::open_pack_header(env, other);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::verification);
  }
  SECTION("a blob envelope is not a header") {
    auto r = repo::open_pack_header(p.sealed[0], p.keyring);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::verification);
  }
  SECTION("invalid trailing length") {
    util::Bytes tail{1, 0, 0, 0};
    CHECK(repo::pack_header_length(tail).error().kind == ErrorKind::corrupt);
    CHECK(repo::pack_header_length(util::Bytes{1, 2}).error().kind == ErrorKind::corrupt);
  }
  SECTION("authentic header with a bad version or trailing bytes") {
    auto& key = p.keyring.current_key();
    auto reseal = [&](const util::Bytes& plain) {
      return repo::seal_object(repo::ObjectType::pack_header, key.id, key.key, plain,
                               util::as_bytes("bkp pack header"));
    };
    util::Bytes good{1};
    util::append(good, repo::encode_pack_entries({}));
    CHECK(repo::open_pack_header(reseal(good), p.keyring).ok());

    auto bad_version = good;
    bad_version[0] = 2;
    CHECK(repo::open_pack_header(reseal(bad_version), p.keyring).error().kind == ErrorKind::usage);
    bad_version[0] = 0;
    CHECK(repo::open_pack_header(reseal(bad_version), p.keyring).error().kind ==
          ErrorKind::corrupt);
    auto trailing = good;
    trailing.push_back(0);
    CHECK(repo::open_pack_header(reseal(trailing), p.keyring).error().kind == ErrorKind::corrupt);
    CHECK(repo::open_pack_header(reseal({}), p.keyring).error().kind == ErrorKind::corrupt);
  }
}

TEST_CASE("pack: header records") {
  std::vector<repo::PackHeaderEntry> entries{{BlobType::data, id_of(1), 0, 100, 200},
                                             {BlobType::tree, id_of(2), 100, 50, 0xffffffffu}};
  auto bytes = repo::encode_pack_entries(entries);
  REQUIRE(bytes.size() == 4 + 2 * 45);
  CHECK(util::get_u32le(bytes.data()) == 2);
  CHECK(bytes[4] == 0);
  CHECK(bytes[4 + 45] == 1);
  CHECK(util::get_u32le(bytes.data() + 4 + 45 + 33) == 100);
  CHECK(util::get_u32le(bytes.data() + 4 + 45 + 37) == 50);
  CHECK(util::get_u32le(bytes.data() + 4 + 45 + 41) == 0xffffffffu);

  std::size_t used = 0;
  auto d = repo::decode_pack_entries(bytes, used);
  REQUIRE(d.ok());
  CHECK(used == bytes.size());
  REQUIRE(d->size() == 2);
  CHECK((*d)[1].id == id_of(2));
  CHECK((*d)[1].raw_length == 0xffffffffu);

  auto truncated = repo::decode_pack_entries(util::ByteView(bytes).first(bytes.size() - 1), used);
  CHECK(truncated.error().kind == ErrorKind::corrupt);
  CHECK(repo::decode_pack_entries(util::ByteView(bytes).first(3), used).error().kind ==
        ErrorKind::corrupt);
  bytes[4] = 2;  // unknown blob type
  CHECK(repo::decode_pack_entries(bytes, used).error().kind == ErrorKind::corrupt);
}

TEST_CASE("index segment: round trip") {
  std::vector<repo::IndexedPack> packs{
      {id_of(7), {{BlobType::data, id_of(1), 0, 100, 200}, {BlobType::data, id_of(2), 100, 9, 3}}},
      {id_of(8), {}},
      {id_of(9), {{BlobType::tree, id_of(3), 0, 60, 60}}}};
  auto bytes = repo::encode_index(packs);
  REQUIRE(bytes.size() == 1 + 4 + 3 * (32 + 4) + 3 * 45);
  CHECK(bytes[0] == 1);
  CHECK(util::get_u32le(bytes.data() + 1) == 3);

  auto d = repo::decode_index(bytes);
  REQUIRE(d.ok());
  REQUIRE(d->size() == 3);
  CHECK((*d)[0].id == id_of(7));
  REQUIRE((*d)[0].blobs.size() == 2);
  CHECK((*d)[0].blobs[1].id == id_of(2));
  CHECK((*d)[0].blobs[1].offset == 100);
  CHECK((*d)[1].blobs.empty());
  CHECK((*d)[2].blobs[0].type == BlobType::tree);

  auto empty = repo::decode_index(repo::encode_index({}));
  REQUIRE(empty.ok());
  CHECK(empty->empty());

  auto name = repo::new_index_name();
  CHECK(name.size() == 6 + 64);
  CHECK(name.rfind("index/", 0) == 0);
  CHECK(name != repo::new_index_name());
}

TEST_CASE("index segment: damage") {
  std::vector<repo::IndexedPack> packs{{id_of(7), {{BlobType::data, id_of(1), 0, 100, 200}}},
                                       {id_of(8), {{BlobType::data, id_of(2), 0, 100, 200}}}};
  auto bytes = repo::encode_index(packs);
  for (std::size_t cut : {std::size_t{0}, std::size_t{4}, std::size_t{5}, std::size_t{20},
                          std::size_t{5 + 32 + 2}, bytes.size() - 1}) {
    INFO("cut at " << cut);
    auto r = repo::decode_index(util::ByteView(bytes).first(cut));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::corrupt);
  }
  auto trailing = bytes;
  trailing.push_back(0);
  CHECK(repo::decode_index(trailing).error().kind == ErrorKind::corrupt);
  auto version = bytes;
  version[0] = 2;
  CHECK(repo::decode_index(version).error().kind == ErrorKind::usage);
  version[0] = 0;
  CHECK(repo::decode_index(version).error().kind == ErrorKind::corrupt);
}
