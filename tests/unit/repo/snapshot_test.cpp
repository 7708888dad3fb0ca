#include <catch2/catch.hpp>

#include "helpers.hpp"
#include "repo/json_read.hpp"
#include "repo/snapshot.hpp"

using namespace bkp;
using nlohmann::json;
using util::ErrorKind;

namespace {

repo::Snapshot sample() {
  repo::Snapshot s;
  s.id = repo::new_snapshot_id();
  s.time = "2024-05-01T10:00:00Z";
  s.completed = "2024-05-01T10:00:05Z";
  s.hostname = "db1";
  s.username = "root";
  s.source_kind = "files";
  s.source_name = "db1:/etc";
  s.paths = {"/etc", "/srv"};
  s.tags = {"nightly"};
  s.backup_type = "incremental";
  s.parent = std::string(64, 'a');
  s.tree.fill(0x5a);
  s.stats = {{"total_bytes", 1234}, {"partial", false}};
  s.extra = {{"command", {"pg_dump", "db"}}};
  s.program_version = "0.1.0";
  return s;
}

}  // namespace

TEST_CASE("snapshot: CBOR round trip") {
  auto s = sample();
  CHECK(s.id.size() == 64);
  CHECK(s.object_name() == "snapshots/" + s.id);
  auto d = repo::Snapshot::decode(s.encode());
  REQUIRE(d.ok());
  CHECK(d->id == s.id);
  CHECK(d->time == s.time);
  CHECK(d->completed == s.completed);
  CHECK(d->hostname == s.hostname);
  CHECK(d->username == s.username);
  CHECK(d->source_kind == s.source_kind);
  CHECK(d->source_name == s.source_name);
  CHECK(d->paths == s.paths);
  CHECK(d->tags == s.tags);
  CHECK(d->backup_type == s.backup_type);
  CHECK(d->parent == s.parent);
  CHECK(d->tree == s.tree);
  CHECK(d->stats == s.stats);
  CHECK(d->extra == s.extra);
  CHECK(d->program_version == s.program_version);
  CHECK(d->encode() == s.encode());
}

TEST_CASE("snapshot: field names and types on the wire") {
  auto j = json::from_cbor(sample().encode());
  CHECK(j["version"] == 1);
  CHECK(j["source"] == "db1:/etc");
  CHECK(j["tree"].is_binary());
  CHECK(j["tree"].get_binary().size() == 32);
  for (auto key : {"id", "time", "completed", "hostname", "username", "source_kind", "paths",
                   "tags", "backup_type", "parent", "stats", "extra", "program_version"}) {
    CHECK(j.contains(key));
  }
  CHECK(sample().to_json()["tree"] == util::to_hex(sample().tree));
}

TEST_CASE("snapshot: optional fields may be absent") {
  json j{{"version", 1},
         {"id", "ab"},
         {"time", "t"},
         {"source_kind", "stdin"},
         {"source", "dump.sql"},
         {"backup_type", "full"},
         {"tree", json::binary(std::vector<std::uint8_t>(32, 1))}};
  auto d = repo::Snapshot::decode(json::to_cbor(j));
  REQUIRE(d.ok());
  CHECK(d->paths.empty());
  CHECK(d->parent.empty());
  CHECK(d->stats.is_object());
}

TEST_CASE("snapshot: the audit anchor is optional and round-trips") {
  auto s = sample();
  CHECK_FALSE(json::from_cbor(s.encode()).contains("audit"));  // none: nothing written
  CHECK_FALSE(repo::Snapshot::decode(s.encode())->audit);
  s.audit = repo::AuditAnchor{std::string(32, 'c'), 42, std::string(64, 'e')};
  auto j = json::from_cbor(s.encode());
  CHECK(j["audit"]["chain"] == std::string(32, 'c'));
  CHECK(j["audit"]["seq"] == 42);
  CHECK(j["audit"]["mac"].get_binary().size() == 32);
  auto d = repo::Snapshot::decode(s.encode());
  REQUIRE(d.ok());
  REQUIRE(d->audit);
  CHECK(*d->audit == *s.audit);
  CHECK(d->encode() == s.encode());

  auto decode = [](const json& x) { return repo::Snapshot::decode(json::to_cbor(x)); };
  auto bad = j;
  bad["audit"]["mac"] = json::binary(std::vector<std::uint8_t>(31, 1));
  CHECK(decode(bad).error().kind == ErrorKind::corrupt);
  bad = j;
  bad["audit"]["chain"] = "not hex";
  CHECK(decode(bad).error().kind == ErrorKind::corrupt);
  bad = j;
  bad["audit"]["seq"] = 0;
  CHECK(decode(bad).error().kind == ErrorKind::corrupt);
  bad = j;
  bad["audit"] = "text";
  CHECK(decode(bad).error().kind == ErrorKind::corrupt);
}

TEST_CASE("snapshot: bad manifests") {
  auto j = json::from_cbor(sample().encode());
  auto decode = [](const json& x) { return repo::Snapshot::decode(json::to_cbor(x)); };

  SECTION("newer version") {
    j["version"] = 2;
    CHECK(decode(j).error().kind == ErrorKind::usage);
  }
  SECTION("a float version is corrupt, however large") {
    for (double v : {1.0, 1e300, -1e300}) {
      j["version"] = v;
      CHECK(decode(j).error().kind == ErrorKind::corrupt);
    }
  }
  // Found by fuzzing: nlohmann's CBOR reader recurses per level, and 10,000
  // nested arrays (10 KB) overflowed the stack under ASan.
  SECTION("deep nesting is corrupt, not a stack overflow") {
    util::Bytes deep(200000, 0x81);  // array of one array of one ...
    deep.push_back(0x00);
    CHECK(repo::Snapshot::decode(deep).error().kind == ErrorKind::corrupt);
    util::Bytes deep_maps;
    for (int i = 0; i < 100000; ++i) {
      for (std::uint8_t b : {0xa1, 0x61, 0x78}) deep_maps.push_back(b);  // {"x": ...
    }
    deep_maps.push_back(0x00);
    CHECK(repo::Snapshot::decode(deep_maps).error().kind == ErrorKind::corrupt);
  }
  SECTION("nesting up to the limit is fine") {
    auto nested = [](std::size_t levels) {
      json v = json::array();
      for (std::size_t i = 1; i < levels; ++i) v = json::array({v});
      return v;
    };
    j["extra"] = nested(repo::kMaxCborDepth - 1);  // the manifest is a level too
    auto ok = decode(j);
    REQUIRE(ok.ok());
    CHECK(ok->extra == j["extra"]);
    j["extra"] = nested(repo::kMaxCborDepth);
    CHECK(decode(j).error().kind == ErrorKind::corrupt);
  }
  SECTION("missing required field") {
    j.erase("backup_type");
    CHECK(decode(j).error().kind == ErrorKind::corrupt);
  }
  SECTION("tree as text") {
    j["tree"] = util::to_hex(sample().tree);
    CHECK(decode(j).error().kind == ErrorKind::corrupt);
  }
  SECTION("short tree id") {
    j["tree"] = json::binary(std::vector<std::uint8_t>(31, 1));
    CHECK(decode(j).error().kind == ErrorKind::corrupt);
  }
  SECTION("paths of the wrong type") {
    j["paths"] = 5;
    CHECK(decode(j).error().kind == ErrorKind::corrupt);
  }
  SECTION("not CBOR") {
    auto bytes = sample().encode();
    bytes.resize(bytes.size() / 2);
    CHECK(repo::Snapshot::decode(bytes).error().kind == ErrorKind::corrupt);
  }
}
