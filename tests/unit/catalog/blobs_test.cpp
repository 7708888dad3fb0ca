#include <vector>

#include "helpers.hpp"

using bkp::catalog::BlobLocation;
using bkp::catalog::BlobType;
using bkp::catalog::Catalog;
using bkp::catalog::Id32;
using bkp::util::ErrorKind;
using bkp::util::Status;

namespace {

Id32 make_id(std::uint8_t a, std::uint8_t b = 0) {
  Id32 id{};
  id[0] = a;
  id[31] = b;
  return id;
}

BlobLocation make_blob(std::uint8_t n, const Id32& pack, std::uint32_t offset) {
  BlobLocation blob;
  blob.id = make_id(n, 0xee);
  blob.type = n % 2 ? BlobType::tree : BlobType::data;
  blob.pack = pack;
  blob.offset = offset;
  blob.length = 100u + n;
  blob.raw_length = 0xffffffffu - n;  // the full u32 range round-trips
  return blob;
}

}  // namespace

TEST_CASE("blobs are added, found and counted", "[catalog]") {
  Catalog cat = bkp::test::memory_catalog();
  const Id32 pack = make_id(0xa0);
  std::vector<BlobLocation> blobs;
  for (std::uint8_t i = 1; i <= 5; ++i) blobs.push_back(make_blob(i, pack, i * 1000u));
  REQUIRE(cat.add_blobs(blobs).ok());
  REQUIRE(cat.add_blobs({}).ok());
  CHECK(cat.blob_count().value() == 5);

  for (const auto& blob : blobs) {
    auto found = cat.find_blob(blob.id);
    REQUIRE(found.ok());
    REQUIRE(found->has_value());
    const BlobLocation& got = **found;
    CHECK(got.id == blob.id);
    CHECK(got.type == blob.type);
    CHECK(got.pack == blob.pack);
    CHECK(got.offset == blob.offset);
    CHECK(got.length == blob.length);
    CHECK(got.raw_length == blob.raw_length);
  }
  auto missing = cat.find_blob(make_id(0x55));
  REQUIRE(missing.ok());
  CHECK_FALSE(missing->has_value());
}

TEST_CASE("a blob already indexed keeps its first location", "[catalog]") {
  Catalog cat = bkp::test::memory_catalog();
  BlobLocation first = make_blob(1, make_id(0xa0), 10);
  BlobLocation second = first;
  second.pack = make_id(0xb0);
  second.offset = 20;
  REQUIRE(cat.add_blobs({&first, 1}).ok());
  REQUIRE(cat.add_blobs({&second, 1}).ok());
  CHECK(cat.blob_count().value() == 1);
  auto found = cat.find_blob(first.id);
  REQUIRE(found->has_value());
  CHECK((*found)->pack == first.pack);
  CHECK((*found)->offset == 10);
}

TEST_CASE("remove_pack forgets only that pack's blobs", "[catalog]") {
  Catalog cat = bkp::test::memory_catalog();
  const Id32 pack_a = make_id(0xa0), pack_b = make_id(0xb0);
  std::vector<BlobLocation> blobs = {make_blob(1, pack_a, 0), make_blob(2, pack_a, 1),
                                     make_blob(3, pack_b, 0)};
  REQUIRE(cat.add_blobs(blobs).ok());
  REQUIRE(cat.remove_pack(pack_a).ok());
  CHECK(cat.blob_count().value() == 1);
  CHECK_FALSE(cat.find_blob(blobs[0].id)->has_value());
  CHECK_FALSE(cat.find_blob(blobs[1].id)->has_value());
  CHECK(cat.find_blob(blobs[2].id)->has_value());
  REQUIRE(cat.remove_pack(make_id(0xcc)).ok());  // unknown pack: nothing to do
  CHECK(cat.blob_count().value() == 1);
}

TEST_CASE("for_each_blob visits every blob in id order and stops on error", "[catalog]") {
  Catalog cat = bkp::test::memory_catalog();
  std::vector<BlobLocation> blobs;
  for (std::uint8_t i : {9, 3, 7, 1}) blobs.push_back(make_blob(i, make_id(0xa0), i));
  REQUIRE(cat.add_blobs(blobs).ok());

  std::vector<BlobLocation> seen;
  REQUIRE(cat.for_each_blob([&](const BlobLocation& b) -> Status {
               seen.push_back(b);
               return {};
             })
              .ok());
  REQUIRE(seen.size() == 4);
  CHECK(seen[0].id[0] == 1);
  CHECK(seen[3].id[0] == 9);
  CHECK(seen[1].offset == 3);
  CHECK(seen[1].type == BlobType::tree);
  CHECK(seen[1].raw_length == 0xffffffffu - 3);

  int calls = 0;
  auto status = cat.for_each_blob([&](const BlobLocation&) -> Status {
    if (++calls == 2) return bkp::util::fail(ErrorKind::interrupted, "enough");
    return {};
  });
  REQUIRE_FALSE(status.ok());
  CHECK(status.error().kind == ErrorKind::interrupted);
  CHECK(calls == 2);
}

TEST_CASE("index segments are recorded and cleared with the index", "[catalog]") {
  Catalog cat = bkp::test::memory_catalog();
  CHECK_FALSE(cat.has_index_segment("seg1").value());
  REQUIRE(cat.add_index_segment("seg1").ok());
  REQUIRE(cat.add_index_segment("seg1").ok());  // twice is fine
  CHECK(cat.has_index_segment("seg1").value());
  CHECK_FALSE(cat.has_index_segment("seg2").value());
  BlobLocation blob = make_blob(1, make_id(0xa0), 0);
  REQUIRE(cat.add_blobs({&blob, 1}).ok());

  REQUIRE(cat.clear_index().ok());
  CHECK(cat.blob_count().value() == 0);
  CHECK_FALSE(cat.has_index_segment("seg1").value());
  CHECK_FALSE(cat.find_blob(blob.id)->has_value());
}

TEST_CASE("add_blobs inside a transaction rolls back with it", "[catalog]") {
  Catalog cat = bkp::test::memory_catalog();
  BlobLocation blob = make_blob(1, make_id(0xa0), 0);
  auto status = cat.transaction([&]() -> Status {
    REQUIRE(cat.add_blobs({&blob, 1}).ok());
    CHECK(cat.find_blob(blob.id)->has_value());
    return bkp::util::fail(ErrorKind::generic, "abort");
  });
  REQUIRE_FALSE(status.ok());
  CHECK(cat.blob_count().value() == 0);
}

TEST_CASE("a damaged chunk index row is reported as corrupt", "[catalog]") {
  Catalog cat = bkp::test::memory_catalog();
  const Id32 good = make_id(1);
  auto expect_corrupt = [&](const std::string& sql, const std::string& needle) {
    bkp::test::raw_exec(cat, "DELETE FROM blobs");
    bkp::test::raw_exec(cat, sql);
    auto found = cat.find_blob(good);
    REQUIRE_FALSE(found.ok());
    CHECK(found.error().kind == ErrorKind::corrupt);
    CHECK(found.error().message.find(needle) != std::string::npos);
    auto walked = cat.for_each_blob([](const BlobLocation&) { return Status{}; });
    REQUIRE_FALSE(walked.ok());
    CHECK(walked.error().kind == ErrorKind::corrupt);
  };
  const std::string id = "x'01" + std::string(62, '0') + "'";
  const std::string pack = "x'" + std::string(64, 'a') + "'";
  expect_corrupt("INSERT INTO blobs VALUES (" + id + ", 7, " + pack + ", 0, 1, 1)",
                 "unknown blob type 7");
  expect_corrupt("INSERT INTO blobs VALUES (" + id + ", 0, x'0102', 0, 1, 1)",
                 "a pack id has 2 bytes, not 32");
  expect_corrupt("INSERT INTO blobs VALUES (" + id + ", 0, " + pack + ", -1, 1, 1)",
                 "offset -1 is out of range");
  expect_corrupt("INSERT INTO blobs VALUES (" + id + ", 0, " + pack + ", 0, 4294967296, 1)",
                 "length 4294967296 is out of range");
  // A short id cannot be found by find_blob, but for_each_blob sees it.
  bkp::test::raw_exec(cat, "DELETE FROM blobs");
  bkp::test::raw_exec(cat, "INSERT INTO blobs VALUES (x'01', 0, " + pack + ", 0, 1, 1)");
  auto walked = cat.for_each_blob([](const BlobLocation&) { return Status{}; });
  REQUIRE_FALSE(walked.ok());
  CHECK(walked.error().message.find("a chunk id has 1 bytes") != std::string::npos);
}

TEST_CASE("chunk index writes report SQLite errors", "[catalog]") {
  Catalog cat = bkp::test::memory_catalog();
  // A trigger stands in for a disk error: the statement fails mid-batch.
  bkp::test::raw_exec(cat,
                      "CREATE TRIGGER no_more BEFORE INSERT ON blobs WHEN NEW.offset = 2 "
                      "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END");
  std::vector<BlobLocation> blobs = {make_blob(1, make_id(0xa0), 1),
                                     make_blob(2, make_id(0xa0), 2)};
  auto status = cat.add_blobs(blobs);
  REQUIRE_FALSE(status.ok());
  CHECK(status.error().kind == ErrorKind::io);
  CHECK(status.error().message == "adding chunks to the catalog: disk on fire");
  CHECK(cat.blob_count().value() == 0);  // the whole batch rolled back
  // The cached statement is usable again after the failure.
  REQUIRE(cat.add_blobs({&blobs[0], 1}).ok());
  CHECK(cat.blob_count().value() == 1);
}

TEST_CASE("has_blobs answers a batch in one read transaction", "[catalog]") {
  Catalog cat = bkp::test::memory_catalog();
  const Id32 pack = make_id(0xa1);
  std::vector<BlobLocation> blobs;
  for (std::uint8_t i = 1; i <= 3; ++i) blobs.push_back(make_blob(i, pack, i * 10u));
  REQUIRE(cat.add_blobs(blobs).ok());

  std::vector<Id32> ids{blobs[0].id, make_id(0x77), blobs[2].id, blobs[0].id, make_id(0x78)};
  auto found = cat.has_blobs(ids);
  REQUIRE(found.ok());
  CHECK(*found == std::vector<bool>{true, false, true, true, false});
  CHECK(sqlite3_get_autocommit(cat.handle()) != 0);  // its transaction is closed
  CHECK(cat.has_blobs({}).value().empty());

  // Inside a caller's transaction it joins it, sees its uncommitted rows,
  // and leaves it open.
  REQUIRE(cat.transaction([&]() -> Status {
               REQUIRE(cat.add_blobs(std::vector<BlobLocation>{make_blob(9, pack, 90)}).ok());
               auto inside = cat.has_blobs(std::vector<Id32>{make_blob(9, pack, 90).id});
               REQUIRE(inside.ok());
               CHECK(inside->at(0));
               CHECK(sqlite3_get_autocommit(cat.handle()) == 0);
               return {};
             })
              .ok());

  // A failing lookup is an error, and leaves no transaction behind.
  bkp::test::raw_exec(cat, "DROP TABLE blobs");
  auto broken = cat.has_blobs(ids);
  CHECK_FALSE(broken.ok());
  CHECK(sqlite3_get_autocommit(cat.handle()) != 0);
}
