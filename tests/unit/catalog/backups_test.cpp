#include "helpers.hpp"
#include "util/time.hpp"

using bkp::catalog::BackupFilter;
using bkp::catalog::BackupRow;
using bkp::catalog::Catalog;
using bkp::util::ErrorKind;

namespace {

BackupRow make_backup(const std::string& id, const std::string& source,
                      const std::string& created_at) {
  BackupRow row;
  row.id = id;
  row.backup_type = "full";
  row.database_name = source;
  row.status = "completed";
  row.created_at = created_at;
  return row;
}

std::vector<std::string> ids_of(const std::vector<BackupRow>& rows) {
  std::vector<std::string> ids;
  for (const auto& r : rows) ids.push_back(r.id);
  return ids;
}

std::vector<std::string> list_ids(Catalog& cat, const BackupFilter& filter) {
  auto rows = cat.list_backups(filter);
  INFO((rows.ok() ? std::string() : rows.error().message));
  REQUIRE(rows.ok());
  return ids_of(*rows);
}

}  // namespace

TEST_CASE("a backup row round-trips every column", "[catalog]") {
  Catalog cat = bkp::test::memory_catalog();
  BackupRow row;
  row.id = "ab12";
  row.backup_type = "incremental";
  row.database_name = "pg-main";
  row.parent_backup_id = "ab00";
  row.status = "running";
  row.size_bytes = 1LL << 40;
  row.compressed_size_bytes = 123456789;
  row.encryption_enabled = false;
  row.checksum = "sha256:00ff";
  row.storage_location = "s3://bucket/repo";
  row.storage_backend = "s3";
  row.created_at = "2026-11-26T13:45:58.123456Z";
  row.completed_at = "2026-11-26T14:00:00.000000Z";
  row.retention_until = "2027-11-26T00:00:00.000000Z";
  row.metadata = R"({"host":"db1","files":3})";
  REQUIRE(cat.upsert_backup(row).ok());

  auto got = cat.get_backup("ab12");
  REQUIRE(got.ok());
  REQUIRE(got->has_value());
  const BackupRow& g = **got;
  CHECK(g.id == row.id);
  CHECK(g.backup_type == row.backup_type);
  CHECK(g.database_name == row.database_name);
  CHECK(g.parent_backup_id == row.parent_backup_id);
  CHECK(g.status == row.status);
  CHECK(g.size_bytes == row.size_bytes);
  CHECK(g.compressed_size_bytes == row.compressed_size_bytes);
  CHECK(g.encryption_enabled == false);
  CHECK(g.checksum == row.checksum);
  CHECK(g.storage_location == row.storage_location);
  CHECK(g.storage_backend == row.storage_backend);
  CHECK(g.created_at == row.created_at);
  CHECK(g.completed_at == row.completed_at);
  CHECK(g.retention_until == row.retention_until);
  CHECK(g.metadata == row.metadata);

  auto none = cat.get_backup("nope");
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
}

TEST_CASE("empty optional columns are stored as NULL", "[catalog]") {
  Catalog cat = bkp::test::memory_catalog();
  BackupRow row = make_backup("aa", "files", "2026-01-01T00:00:00.000000Z");
  row.metadata = "";  // taken as {}
  REQUIRE(cat.upsert_backup(row).ok());
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(cat.handle(),
                             "SELECT parent_backup_id IS NULL AND checksum IS NULL AND "
                             "storage_location IS NULL AND storage_backend IS NULL AND "
                             "completed_at IS NULL AND retention_until IS NULL, metadata, "
                             "encryption_enabled FROM backups",
                             -1, &stmt, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
  CHECK(sqlite3_column_int(stmt, 0) == 1);
  CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1))) == "{}");
  CHECK(sqlite3_column_int(stmt, 2) == 1);
  sqlite3_finalize(stmt);
  auto got = cat.get_backup("aa");
  REQUIRE(got->has_value());
  CHECK((*got)->parent_backup_id.empty());
  CHECK((*got)->completed_at.empty());
  CHECK((*got)->metadata == "{}");
  CHECK((*got)->encryption_enabled);
}

TEST_CASE("upsert updates an existing backup in place", "[catalog]") {
  Catalog cat = bkp::test::memory_catalog();
  BackupRow row = make_backup("aa", "files", "");
  row.status = "running";
  REQUIRE(cat.upsert_backup(row).ok());
  auto first = cat.get_backup("aa");
  REQUIRE(first->has_value());
  const std::string created = (*first)->created_at;
  CHECK(bkp::util::parse_rfc3339(created).has_value());  // defaulted to now

  // An update without created_at keeps the stored one.
  row.status = "completed";
  row.completed_at = "2030-01-01T00:00:00.000000Z";
  row.size_bytes = 42;
  REQUIRE(cat.upsert_backup(row).ok());
  auto second = cat.get_backup("aa");
  CHECK((*second)->status == "completed");
  CHECK((*second)->size_bytes == 42);
  CHECK((*second)->completed_at == row.completed_at);
  CHECK((*second)->created_at == created);

  // An update with created_at replaces it; clearing an optional column works.
  row.created_at = "2020-05-05T05:05:05.000000Z";
  row.completed_at = "";
  REQUIRE(cat.upsert_backup(row).ok());
  auto third = cat.get_backup("aa");
  CHECK((*third)->created_at == row.created_at);
  CHECK((*third)->completed_at.empty());
  CHECK(cat.list_backups().value().size() == 1);
}

TEST_CASE("invalid backup rows are rejected with an error", "[catalog]") {
  Catalog cat = bkp::test::memory_catalog();
  BackupRow row = make_backup("aa", "files", "2026-01-01T00:00:00Z");

  SECTION("invalid JSON metadata") {
    row.metadata = "{not json";
    auto status = cat.upsert_backup(row);
    REQUIRE_FALSE(status.ok());
    CHECK(status.error().kind == ErrorKind::io);
    CHECK(status.error().message.rfind(
              "storing backup 'aa' in the catalog: CHECK constraint failed", 0) == 0);
    CHECK(status.error().message.find("json_valid(metadata)") != std::string::npos);
  }
  SECTION("unknown backup type") {
    row.backup_type = "weekly";
    auto status = cat.upsert_backup(row);
    REQUIRE_FALSE(status.ok());
    CHECK(status.error().message.find("backup_type") != std::string::npos);
  }
  SECTION("unknown status") {
    row.status = "lost";
    CHECK_FALSE(cat.upsert_backup(row).ok());
  }
  SECTION("partial is a status") {
    row.status = "partial";
    CHECK(cat.upsert_backup(row).ok());
  }
  SECTION("empty id") {
    row.id = "";
    auto status = cat.upsert_backup(row);
    REQUIRE_FALSE(status.ok());
    CHECK(status.error().kind == ErrorKind::usage);
  }
  if (!cat.get_backup("aa")->has_value()) CHECK(cat.list_backups().value().empty());
}

TEST_CASE("list_backups is newest first and filters", "[catalog]") {
  Catalog cat = bkp::test::memory_catalog();
  auto add = [&](const std::string& id, const std::string& source, const std::string& at,
                 const std::string& status) {
    BackupRow row = make_backup(id, source, at);
    row.status = status;
    REQUIRE(cat.upsert_backup(row).ok());
  };
  add("a1b2", "pg", "2026-01-02T00:00:00.000000Z", "completed");
  add("a1ff", "files", "2026-01-04T00:00:00.000000Z", "failed");
  add("b3c4", "pg", "2026-01-03T00:00:00.000000Z", "completed");
  add("a2cd", "files", "2026-01-01T00:00:00.000000Z", "completed");
  add("c0de", "pg", "2026-01-03T00:00:00.000000Z", "running");  // same time as b3c4

  using V = std::vector<std::string>;
  CHECK(list_ids(cat, {}) == V{"a1ff", "c0de", "b3c4", "a1b2", "a2cd"});
  CHECK(list_ids(cat, {.source = "pg"}) == V{"c0de", "b3c4", "a1b2"});
  CHECK(list_ids(cat, {.status = "completed"}) == V{"b3c4", "a1b2", "a2cd"});
  CHECK(list_ids(cat, {.source = "pg", .status = "completed"}) == V{"b3c4", "a1b2"});
  CHECK(list_ids(cat, {.id_prefix = "a1"}) == V{"a1ff", "a1b2"});
  CHECK(list_ids(cat, {.id_prefix = "A1"}) == V{"a1ff", "a1b2"});  // case-insensitive
  CHECK(list_ids(cat, {.id_prefix = "a"}) == V{"a1ff", "a1b2", "a2cd"});
  CHECK(list_ids(cat, {.id_prefix = "a1ff"}) == V{"a1ff"});
  CHECK(list_ids(cat, {.id_prefix = "a1ff0"}).empty());
  CHECK(list_ids(cat, {.id_prefix = "f"}).empty());
  CHECK(list_ids(cat, {.source = "files", .id_prefix = "a"}) == V{"a1ff", "a2cd"});
  CHECK(list_ids(cat, {.source = "mysql"}).empty());
  // LIKE metacharacters are plain characters here.
  CHECK(list_ids(cat, {.id_prefix = "%"}).empty());
  CHECK(list_ids(cat, {.id_prefix = "_"}).empty());
  CHECK(list_ids(cat, {.id_prefix = "\xff"}).empty());
}

TEST_CASE("delete_backup forgets one row", "[catalog]") {
  Catalog cat = bkp::test::memory_catalog();
  REQUIRE(cat.upsert_backup(make_backup("aa", "x", "2026-01-01T00:00:00Z")).ok());
  REQUIRE(cat.upsert_backup(make_backup("bb", "x", "2026-01-02T00:00:00Z")).ok());
  REQUIRE(cat.delete_backup("aa").ok());
  CHECK_FALSE(cat.get_backup("aa")->has_value());
  CHECK(cat.get_backup("bb")->has_value());
  auto again = cat.delete_backup("aa");
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().kind == ErrorKind::not_found);
  CHECK(again.error().message == "deleting backup 'aa' from the catalog: no such backup");
}

TEST_CASE("a forgotten backup keeps its recovery jobs", "[catalog]") {
  Catalog cat = bkp::test::memory_catalog();
  REQUIRE(cat.upsert_backup(make_backup("aa", "x", "2026-01-01T00:00:00Z")).ok());
  bkp::catalog::RecoveryJobRow job;
  job.backup_id = "aa";
  auto id = cat.insert_recovery_job(job);
  REQUIRE(id.ok());
  REQUIRE(cat.delete_backup("aa").ok());
  auto kept = cat.get_recovery_job(*id);
  REQUIRE(kept->has_value());
  CHECK((*kept)->backup_id == "aa");
}
