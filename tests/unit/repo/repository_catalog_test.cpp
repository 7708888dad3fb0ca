// Snapshots, and the catalog as a rebuildable view of storage: a lost
// catalog, and several hosts writing into one repository.
#include <catch2/catch.hpp>

#include <set>

#include "helpers.hpp"

using namespace bkp;
using repo::BlobType;
using util::ErrorKind;
namespace fs = std::filesystem;

namespace {

repo::Snapshot make_snapshot(repo::Repository& r, const std::string& source, util::ByteView data) {
  auto id = r.blob_id(data);
  REQUIRE(r.save_blob(BlobType::tree, data, id).ok());
  repo::Snapshot s;
  s.id = repo::new_snapshot_id();
  s.time = "2024-05-01T10:00:00Z";
  s.completed = "2024-05-01T10:00:01Z";
  s.source_kind = "stdin";
  s.source_name = source;
  s.tree = id;
  s.stats = {{"total_bytes", data.size()}, {"sha256", "abc"}};
  REQUIRE(r.flush().ok());
  auto saved = r.save_snapshot(s);
  INFO((saved.ok() ? std::string() : saved.error().message));
  REQUIRE(saved.ok());
  return s;
}

std::set<std::string> backup_ids(repo::Repository& r) {
  auto rows = r.catalog().list_backups();
  REQUIRE(rows.ok());
  std::set<std::string> out;
  for (auto& row : *rows) out.insert(row.id);
  return out;
}

}  // namespace

TEST_CASE("snapshots: save, load, catalog row") {
  test::RepoFixture f;
  auto r = f.open();
  auto s = make_snapshot(*r, "dump.sql", util::as_bytes("tree"));
  CHECK(fs::exists(f.store() / s.object_name()));

  auto loaded = r->load_snapshot(s.id);
  REQUIRE(loaded.ok());
  CHECK(loaded->source_name == "dump.sql");
  CHECK(loaded->tree == s.tree);

  auto row = r->catalog().get_backup(s.id);
  REQUIRE(row.ok());
  REQUIRE(row->has_value());
  CHECK((*row)->status == "completed");
  CHECK((*row)->database_name == "dump.sql");
  CHECK((*row)->size_bytes == 4);
  CHECK((*row)->checksum == "abc");
  CHECK((*row)->storage_backend == "local");

  // Snapshots are create-only.
  auto again = r->save_snapshot(s);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().kind == ErrorKind::exists);

  auto missing = r->load_snapshot(std::string(64, 'f'));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().kind == ErrorKind::not_found);
}

TEST_CASE("snapshots: save_snapshot makes what it references durable first") {
  test::RepoFixture f;
  auto r = f.open();
  auto data = util::as_bytes("tree bytes");
  auto id = r->blob_id(data);
  REQUIRE(r->save_blob(BlobType::tree, data, id).ok());
  repo::Snapshot s;
  s.id = repo::new_snapshot_id();
  s.time = "t";
  s.source_kind = "stdin";
  s.source_name = "x";
  s.tree = id;
  REQUIRE(r->save_snapshot(s).ok());  // no flush by the caller
  r.reset();

  // Another host, with its own catalog, can read everything the snapshot names.
  auto other = f.open("host-b");
  REQUIRE(other->sync_catalog().ok());
  auto loaded = other->load_blob(id);
  REQUIRE(loaded.ok());
  CHECK(*loaded == util::Bytes(data.begin(), data.end()));
}

TEST_CASE("snapshots: a manifest moved to another name is refused") {
  test::RepoFixture f;
  auto r = f.open();
  auto s = make_snapshot(*r, "a", util::as_bytes("tree"));
  auto other_id = repo::new_snapshot_id();
  fs::copy_file(f.store() / s.object_name(), f.store() / ("snapshots/" + other_id));
  auto loaded = r->load_snapshot(other_id);
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.error().kind == ErrorKind::verification);

  // Whether sync stops at a damaged manifest or skips it (for verify to
  // report), it never enters the catalog.
  auto synced = r->sync_catalog();
  if (!synced.ok()) {
    CHECK(synced.error().kind == ErrorKind::verification);
    CHECK_THAT(synced.error().message, Catch::Contains(other_id));
  }
  CHECK(backup_ids(*r) == std::set<std::string>{s.id});
}

TEST_CASE("catalog: deleted and rebuilt from storage") {
  test::RepoFixture f;
  std::vector<repo::BlobId> ids;
  std::set<std::string> snaps;
  {
    auto r = f.open();
    for (std::uint64_t i = 0; i < 30; ++i) {
      auto data = test::noise(8000, i);
      ids.push_back(r->blob_id(data));
      REQUIRE(r->save_blob(BlobType::data, data, ids.back()).ok());
    }
    snaps.insert(make_snapshot(*r, "one", util::as_bytes("t1")).id);
    snaps.insert(make_snapshot(*r, "two", util::as_bytes("t2")).id);
  }
  fs::remove_all(f.catalog().parent_path());

  auto r = f.open();
  CHECK(backup_ids(*r).empty());
  CHECK_FALSE(r->has_blob(ids[0]));
  REQUIRE(r->rebuild_catalog().ok());
  CHECK(backup_ids(*r) == snaps);
  auto count = r->catalog().blob_count();
  REQUIRE(count.ok());
  CHECK(*count == 32);
  for (std::uint64_t i = 0; i < ids.size(); ++i) {
    auto loaded = r->load_blob(ids[i]);
    REQUIRE(loaded.ok());
    CHECK(*loaded == test::noise(8000, i));
  }
  // Dedup works against the rebuilt index.
  auto again = r->save_blob(BlobType::data, test::noise(8000, 0), ids[0]);
  REQUIRE(again.ok());
  CHECK_FALSE(*again);

  // A rebuild of a complete catalog changes nothing.
  REQUIRE(r->rebuild_catalog().ok());
  CHECK(backup_ids(*r) == snaps);
  CHECK(*r->catalog().blob_count() == 32);
}

TEST_CASE("catalog: two hosts, one repository") {
  test::RepoFixture f;
  auto a = f.open("host-a");
  auto b = f.open("host-b");

  auto sa = make_snapshot(*a, "from-a", util::as_bytes("tree of a"));
  auto sb = make_snapshot(*b, "from-b", util::as_bytes("tree of b"));
  CHECK(backup_ids(*a) == std::set<std::string>{sa.id});
  CHECK(backup_ids(*b) == std::set<std::string>{sb.id});
  CHECK_FALSE(a->has_blob(sb.tree));

  REQUIRE(a->sync_catalog().ok());
  REQUIRE(b->sync_catalog().ok());
  CHECK(backup_ids(*a) == std::set<std::string>{sa.id, sb.id});
  CHECK(backup_ids(*b) == std::set<std::string>{sa.id, sb.id});
  auto tree_b = a->load_blob(sb.tree);
  REQUIRE(tree_b.ok());
  CHECK(util::as_chars(*tree_b) == "tree of b");
  CHECK(a->has_blob(sb.tree));

  // A snapshot removed from storage (by prune on another host) leaves the
  // catalogs at their next sync.
  fs::remove(f.store() / sa.object_name());
  REQUIRE(b->sync_catalog().ok());
  CHECK(backup_ids(*b) == std::set<std::string>{sb.id});
  // Rows of backups still running are kept.
  catalog::BackupRow running;
  running.id = std::string(64, 'c');
  running.status = "running";
  running.backup_type = "full";
  running.created_at = "2024-05-01T11:00:00Z";
  auto upserted = b->catalog().upsert_backup(running);
  INFO((upserted.ok() ? std::string() : upserted.error().message));
  REQUIRE(upserted.ok());
  REQUIRE(b->sync_catalog().ok());
  CHECK(backup_ids(*b) == std::set<std::string>{sb.id, running.id});
}

TEST_CASE("catalog: a damaged index segment is not merged") {
  test::RepoFixture f;
  repo::Snapshot s;
  {
    auto r = f.open("host-a");
    s = make_snapshot(*r, "a", util::as_bytes("tree"));
  }
  auto segment = test::only_file_under(f.store() / "index");
  test::flip_byte(segment, 60);
  auto b = f.open("host-b");
  // Whether sync stops or skips the segment (for verify to report), none of
  // its entries enter the catalog, and it is not marked as merged, so a
  // repaired segment is read next time.
  auto synced = b->sync_catalog();
  if (!synced.ok()) CHECK(synced.error().kind == ErrorKind::verification);
  CHECK_FALSE(b->has_blob(s.tree));
  auto known = b->catalog().has_index_segment("index/" + segment.filename().string());
  REQUIRE(known.ok());
  CHECK_FALSE(*known);
  test::flip_byte(segment, 60);
  REQUIRE(b->sync_catalog().ok());
  CHECK(b->has_blob(s.tree));
}
