#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "repo/wal_entry.hpp"

using bkp::repo::wal_object_name;
using bkp::repo::WalEntry;

TEST_CASE("WAL file names map to wal/<timeline>/<name>", "[wal]") {
  CHECK(*wal_object_name("000000010000000000000003") == "wal/00000001/000000010000000000000003");
  CHECK(*wal_object_name("0000000A00000001000000FF.partial") ==
        "wal/0000000A/0000000A00000001000000FF.partial");
  CHECK(*wal_object_name("000000010000000000000002.00000028.backup") ==
        "wal/00000001/000000010000000000000002.00000028.backup");
  CHECK(*wal_object_name("00000002.history") == "wal/00000002/00000002.history");
  for (auto bad : {"", "00000001000000000000000", "0000000100000000000000030",
                   "000000010000000000000003.partia", "00000001000000000000000g",
                   "000000010000000000000003.0000002.backup", "0000002.history", "../../config",
                   "00000002.historyx", "000000010000000000000003/x",
                   "000000010000000000000002.0000002Z.backup"}) {
    INFO(bad);
    CHECK(!wal_object_name(bad));
  }
}

TEST_CASE("WAL entries round-trip and reject damage", "[wal]") {
  WalEntry e;
  e.name = "000000010000000000000003";
  e.size = 16u << 20;
  e.sha256.fill(7);
  bkp::repo::BlobLocation loc;
  loc.id.fill(1);
  loc.pack.fill(2);
  loc.offset = 10;
  loc.length = 200;
  loc.raw_length = 1000;
  e.chunks = {loc, loc};
  e.pushed = "2026-11-26T17:00:00Z";
  e.hostname = "db1";
  auto bytes = e.encode();
  auto d = WalEntry::decode(bytes);
  REQUIRE(d.ok());
  CHECK(d->name == e.name);
  CHECK(d->size == e.size);
  CHECK(d->sha256 == e.sha256);
  REQUIRE(d->chunks.size() == 2);
  CHECK(d->chunks[1].pack == loc.pack);
  CHECK(d->chunks[1].offset == 10);
  CHECK(d->chunks[1].length == 200);
  CHECK(d->chunks[1].raw_length == 1000);
  CHECK(d->hostname == "db1");
  CHECK_FALSE(d->audit);
  e.audit = bkp::repo::AuditAnchor{std::string(32, '0'), 7, std::string(64, 'f')};
  auto anchored = WalEntry::decode(e.encode());
  REQUIRE(anchored.ok());
  REQUIRE(anchored->audit);
  CHECK(*anchored->audit == *e.audit);

  for (std::size_t cut : {std::size_t{0}, std::size_t{1}, bytes.size() / 2, bytes.size() - 1}) {
    INFO(cut);
    auto short_ = WalEntry::decode(bkp::util::ByteView(bytes).first(cut));
    REQUIRE(!short_.ok());
    CHECK(short_.error().kind == bkp::util::ErrorKind::corrupt);
  }
  auto j = nlohmann::json::from_cbor(bytes);
  j["version"] = 2;
  auto v2 = nlohmann::json::to_cbor(j);
  auto newer = WalEntry::decode(v2);
  REQUIRE(!newer.ok());
  CHECK(newer.error().kind == bkp::util::ErrorKind::usage);
  j["version"] = 1;
  j["sha256"] = nlohmann::json::binary(std::vector<std::uint8_t>(5, 0));
  auto bad = nlohmann::json::to_cbor(j);
  CHECK(WalEntry::decode(bad).error().kind == bkp::util::ErrorKind::corrupt);
}
