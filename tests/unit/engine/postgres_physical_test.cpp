// The parts of physical PostgreSQL backups that need no server: WAL name
// and LSN arithmetic, the excludes, the incremental cut-off, restoring a
// subtree as a directory, and the WAL continuity check over archived names.
#include <fstream>

#include "engine/postgres_physical.hpp"
#include "engine/restore.hpp"
#include "engine/wal.hpp"
#include "engine/wal_continuity.hpp"
#include "engine_fixture.hpp"
#include "sources/files/exclude.hpp"

using namespace bkp;
using namespace bkp::test;

namespace {

constexpr std::uint64_t k16M = 16u << 20;

void put(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
}

}  // namespace

TEST_CASE("WAL segment names and LSNs", "[postgres]") {
  auto s = engine::parse_wal_segment("0000000100000002000000FF", k16M);
  REQUIRE(s);
  CHECK(s->timeline == 1);
  CHECK(s->segno == 2 * 256 + 255);
  CHECK(engine::wal_segment_name(*s, k16M) == "0000000100000002000000FF");
  CHECK(engine::wal_segment_name({1, s->segno + 1}, k16M) == "000000010000000300000000");
  // 1 GiB segments: 4 per xlogid.
  auto g = engine::parse_wal_segment("000000020000000100000003", 1u << 30);
  REQUIRE(g);
  CHECK(g->segno == 7);
  CHECK(!engine::parse_wal_segment("000000020000000100000004", 1u << 30));
  CHECK(!engine::parse_wal_segment("00000001000000020000000g", k16M));
  CHECK(!engine::parse_wal_segment("00000001.history", k16M));

  CHECK(engine::parse_lsn("0/3000028") == 0x3000028u);
  CHECK(engine::parse_lsn("16/B374D848") == ((std::uint64_t{0x16} << 32) | 0xB374D848u));
  CHECK(!engine::parse_lsn("3000028"));
  CHECK(!engine::parse_lsn("0/"));
  CHECK(!engine::parse_lsn("x/1"));
  CHECK(!engine::parse_lsn("/1"));
  CHECK(!engine::parse_lsn("0/1x"));
  CHECK(!engine::parse_lsn("100000000/0"));
}

TEST_CASE("physical excludes leave out WAL and transient state, not the data", "[postgres]") {
  auto ex = sources::Excludes::compile(engine::pg_physical_excludes("/srv/pg*data"));
  REQUIRE(ex.ok());
  using sources::PathKind;
  CHECK(ex->matches("/srv/pg*data/pg_wal/000000010000000000000001", PathKind::non_dir));
  CHECK(ex->matches("/srv/pg*data/pg_wal/archive_status", PathKind::dir));
  CHECK(!ex->matches("/srv/pg*data/pg_wal", PathKind::dir));  // kept, empty
  CHECK(ex->matches("/srv/pg*data/postmaster.pid", PathKind::non_dir));
  CHECK(ex->matches("/srv/pg*data/pg_replslot/slot1", PathKind::dir));
  CHECK(ex->matches("/srv/pg*data/base/5/pg_internal.init", PathKind::non_dir));
  CHECK(ex->matches("/srv/pg*data/base/pgsql_tmp", PathKind::dir));
  CHECK(!ex->matches("/srv/pg*data/base/5/16384", PathKind::non_dir));
  CHECK(!ex->matches("/srv/pg*data/global/pg_control", PathKind::non_dir));
  CHECK(!ex->matches("/srv/pg*data/postgresql.auto.conf", PathKind::non_dir));
  // The '*' of the directory's name is literal.
  CHECK(!ex->matches("/srv/pgXdata/postmaster.pid", PathKind::non_dir));
}

TEST_CASE("reuse_before: a parent's file touched after the cut-off is read again", "[postgres]") {
  RepoFixture f;
  auto src = f.root() / "data";
  put(src / "base" / "1" / "16384", std::string(5000, 'a'));
  put(src / "global" / "pg_control", "control");
  engine::FileBackupOptions o;
  o.paths = {src};
  o.source_name = "pg-test";
  o.type = engine::BackupType::full;
  REQUIRE_OK(engine::backup_files(f.repo(), o));
  o.type = engine::BackupType::incremental;

  SECTION("cut-off after the files' times: reused unread") {
    o.reuse_before = [](const repo::Snapshot&) { return std::numeric_limits<std::int64_t>::max(); };
    auto r = engine::backup_files(f.repo(), o);
    REQUIRE_OK(r);
    CHECK(r->snapshot.stats["files_unmodified"] == 2);
  }
  SECTION("cut-off before them: read again, although size and mtime are equal") {
    o.reuse_before = [](const repo::Snapshot&) { return std::int64_t{1}; };
    auto r = engine::backup_files(f.repo(), o);
    REQUIRE_OK(r);
    CHECK(r->snapshot.stats["files_unmodified"] == 0);
    CHECK(r->snapshot.stats["files_changed"] == 2);
  }
}

TEST_CASE("restore with a root: a directory's contents straight into the target", "[postgres]") {
  RepoFixture f;
  auto src = f.root() / "cluster" / "data";
  put(src / "PG_VERSION", "15\n");
  put(src / "base" / "1" / "1259", "pages");
  engine::FileBackupOptions o;
  o.paths = {src};
  auto b = engine::backup_files(f.repo(), o);
  REQUIRE_OK(b);
  engine::RestoreOptions ro;
  ro.target = f.root() / "out";
  ro.root = src.string();
  REQUIRE_OK(engine::restore_to_directory(f.repo(), b->snapshot, ro));
  CHECK(fs::exists(f.root() / "out" / "PG_VERSION"));
  CHECK(fs::exists(f.root() / "out" / "base" / "1" / "1259"));
  CHECK(!fs::exists(f.root() / "out" / "cluster"));

  ro.target = f.root() / "out2";
  ro.root = src.string() + "/PG_VERSION";
  auto bad = engine::restore_to_directory(f.repo(), b->snapshot, ro);
  CHECK(!bad.ok());
}

TEST_CASE("WAL continuity: gaps are named, timeline switches followed", "[postgres]") {
  RepoFixture f;
  auto wal = f.root() / "walsrc";
  auto push = [&](const std::string& name) {
    put(wal / name, "wal " + name);
    REQUIRE_OK(engine::wal_push(f.repo(), wal / name));
  };
  // A physical snapshot whose WAL runs from segment 2 to 3 on timeline 1.
  put(f.root() / "d" / "PG_VERSION", "15\n");
  engine::FileBackupOptions o;
  o.paths = {f.root() / "d"};
  o.source_kind = "postgres";
  o.extra = {{"mode", "physical"},
             {"wal_start", "000000010000000000000002"},
             {"wal_stop", "000000010000000000000003"},
             {"wal_segment_size", k16M}};
  auto b = engine::backup_files(f.repo(), o);
  REQUIRE_OK(b);
  std::vector<std::string> ids{b->snapshot.id};

  for (auto s : {"000000010000000000000002", "000000010000000000000003", "000000010000000000000004",
                 "000000010000000000000005"})
    push(s);
  auto r = engine::check_wal_continuity(f.repo(), ids);
  REQUIRE_OK(r);
  CHECK(r->problems.empty());
  CHECK(r->base_backups == 1);

  SECTION("a segment after the backup's end: a gap, the backup itself intact") {
    fs::remove(f.storage() / "wal" / "00000001" / "000000010000000000000004");
    r = engine::check_wal_continuity(f.repo(), ids);
    REQUIRE_OK(r);
    REQUIRE(r->problems.size() == 1);
    CHECK(r->problems[0].find("000000010000000000000004") != std::string::npos);
    CHECK(r->damaged_snapshots.empty());
  }
  SECTION("the backup's own stop segment: the snapshot is affected") {
    fs::remove(f.storage() / "wal" / "00000001" / "000000010000000000000003");
    r = engine::check_wal_continuity(f.repo(), ids);
    REQUIRE_OK(r);
    REQUIRE(r->problems.size() == 1);
    CHECK(r->damaged_snapshots.count(b->snapshot.id) == 1);
  }
  SECTION("timeline 2 branched off in segment 5: followed, its gap found") {
    put(wal / "00000002.history", "1\t0/5000100\tno recovery target specified\n");
    REQUIRE_OK(engine::wal_push(f.repo(), wal / "00000002.history"));
    for (auto s : {"000000020000000000000005", "000000020000000000000007"}) push(s);
    r = engine::check_wal_continuity(f.repo(), ids);
    REQUIRE_OK(r);
    REQUIRE(r->problems.size() == 1);
    CHECK(r->problems[0].find("000000020000000000000006") != std::string::npos);
    // Segment 5 of timeline 1 may be only a .partial once 2 took over.
    fs::remove(f.storage() / "wal" / "00000001" / "000000010000000000000005");
    push("000000020000000000000006");
    r = engine::check_wal_continuity(f.repo(), ids);
    REQUIRE_OK(r);
    CHECK(r->problems.empty());
  }
}
