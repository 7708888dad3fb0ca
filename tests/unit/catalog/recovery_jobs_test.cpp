#include <regex>
#include <set>

#include "helpers.hpp"

using bkp::catalog::Catalog;
using bkp::catalog::RecoveryJobRow;
using bkp::util::ErrorKind;

TEST_CASE("inserting a recovery job generates a UUIDv4", "[catalog]") {
  Catalog cat = bkp::test::memory_catalog();
  const std::regex uuid4("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  std::set<std::string> ids;
  for (int i = 0; i < 50; ++i) {
    auto id = cat.insert_recovery_job({});
    REQUIRE(id.ok());
    CHECK(std::regex_match(*id, uuid4));
    ids.insert(*id);
  }
  CHECK(ids.size() == 50);

  auto job = cat.get_recovery_job(*ids.begin());
  REQUIRE(job->has_value());
  CHECK((*job)->status == "pending");
  CHECK((*job)->progress == 0);
  CHECK((*job)->steps == "[]");
  CHECK((*job)->backup_id.empty());
}

TEST_CASE("a recovery job keeps a given id and every column", "[catalog]") {
  Catalog cat = bkp::test::memory_catalog();
  RecoveryJobRow row;
  row.id = "job-1";
  row.backup_id = "ab12";
  row.target_database = "/var/lib/postgresql/15/main";
  row.point_in_time = "2026-11-26T12:00:00Z";
  row.status = "running";
  row.progress = 40;
  row.started_at = "2026-11-26T13:00:00.000000Z";
  row.steps = R"([{"step":"fetch","done":true}])";
  REQUIRE(cat.insert_recovery_job(row).value() == "job-1");

  auto got = cat.get_recovery_job("job-1");
  REQUIRE(got.ok());
  REQUIRE(got->has_value());
  CHECK((*got)->backup_id == row.backup_id);
  CHECK((*got)->target_database == row.target_database);
  CHECK((*got)->point_in_time == row.point_in_time);
  CHECK((*got)->status == "running");
  CHECK((*got)->progress == 40);
  CHECK((*got)->started_at == row.started_at);
  CHECK((*got)->completed_at.empty());
  CHECK((*got)->steps == row.steps);
  CHECK((*got)->error_message.empty());

  // The same id twice is refused.
  auto dup = cat.insert_recovery_job(row);
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.error().message.find("UNIQUE constraint failed") != std::string::npos);
  CHECK_FALSE(cat.get_recovery_job("job-2")->has_value());
}

TEST_CASE("a recovery job is updated as it progresses", "[catalog]") {
  Catalog cat = bkp::test::memory_catalog();
  RecoveryJobRow row;
  row.backup_id = "ab12";
  row.id = cat.insert_recovery_job(row).value();
  row.status = "failed";
  row.progress = 100;
  row.completed_at = "2026-11-26T14:00:00.000000Z";
  row.error_message = "pg_ctl exited with 1";
  row.steps = "";  // taken as []
  REQUIRE(cat.update_recovery_job(row).ok());
  auto got = cat.get_recovery_job(row.id);
  CHECK((*got)->status == "failed");
  CHECK((*got)->progress == 100);
  CHECK((*got)->completed_at == row.completed_at);
  CHECK((*got)->error_message == row.error_message);
  CHECK((*got)->steps == "[]");

  RecoveryJobRow unknown;
  unknown.id = "missing";
  auto status = cat.update_recovery_job(unknown);
  REQUIRE_FALSE(status.ok());
  CHECK(status.error().kind == ErrorKind::not_found);
}

TEST_CASE("recovery job progress stays within 0..100 and steps are JSON", "[catalog]") {
  Catalog cat = bkp::test::memory_catalog();
  RecoveryJobRow row;
  for (int ok_value : {0, 1, 99, 100}) {
    row.id = "ok" + std::to_string(ok_value);
    row.progress = ok_value;
    CHECK(cat.insert_recovery_job(row).ok());
  }
  for (int bad : {-1, 101, 1000}) {
    row.id = "bad" + std::to_string(bad);
    row.progress = bad;
    auto id = cat.insert_recovery_job(row);
    REQUIRE_FALSE(id.ok());
    CHECK(id.error().message.find("CHECK constraint failed") != std::string::npos);
  }
  row.id = "ok0";
  row.progress = 101;
  auto status = cat.update_recovery_job(row);
  REQUIRE_FALSE(status.ok());
  CHECK(status.error().kind == ErrorKind::io);
  CHECK(cat.get_recovery_job("ok0").value()->progress == 0);

  row.progress = 50;
  row.steps = "[unterminated";
  CHECK_FALSE(cat.update_recovery_job(row).ok());
  row.id = "badsteps";
  CHECK_FALSE(cat.insert_recovery_job(row).ok());
}

TEST_CASE("recovery jobs list newest first", "[catalog]") {
  Catalog cat = bkp::test::memory_catalog();
  CHECK(cat.list_recovery_jobs().value().empty());
  RecoveryJobRow row;
  for (const char* id : {"first", "second", "third"}) {
    row.id = id;
    REQUIRE(cat.insert_recovery_job(row).ok());
  }
  auto jobs = cat.list_recovery_jobs();
  REQUIRE(jobs.ok());
  REQUIRE(jobs->size() == 3);
  CHECK((*jobs)[0].id == "third");
  CHECK((*jobs)[2].id == "first");
}
